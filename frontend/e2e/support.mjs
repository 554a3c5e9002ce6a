// Helpers shared by the e2e tests: configuration from the environment, signing in, and a small
// set of assertions that wait (playwright-core has no `expect`, so these poll until a deadline).
import assert from "node:assert/strict";

/** @typedef {import("playwright-core").Page} Page */
/** @typedef {import("playwright-core").Locator} Locator */

export const config = {
  baseUrl: (process.env.ATRIUM_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, ""),
  chromiumPath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  demoPassword: process.env.ATRIUM_DEMO_PASSWORD ?? "atrium-demo",
  timeoutMs: Number(process.env.E2E_TIMEOUT_MS ?? "10000"),
};

/** The demo org's members (`manage.py seed_demo`), one per role. */
export const demoUsers = {
  admin: "admin@demo.local",
  builder: "builder@demo.local",
  user: "user@demo.local",
  viewer: "viewer@demo.local",
};

/** @param {string} path */
export function url(path) {
  return `${config.baseUrl}${path}`;
}

/**
 * Signs in through the login form, as a person would.
 * @param {Page} page
 * @param {string} email
 * @param {string} [password]
 */
export async function signIn(page, email, password = config.demoPassword) {
  await page.goto(url("/login"));
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * Waits until the app shell of some organisation is open, and returns its URL path.
 * @param {Page} page
 */
export async function waitForOrgShell(page) {
  try {
    await page.waitForURL((current) => /^\/o\/[^/]+\/?$/.test(current.pathname));
    await page.getByTestId("role-badge").waitFor();
  } catch (error) {
    // Say what the page shows instead (a sign-in error, a CSRF failure…), not just "timeout".
    const alerts = await page.getByRole("alert").allTextContents().catch(() => []);
    const shown = alerts.length > 0 ? `; the page says: ${alerts.join(" / ")}` : "";
    throw new Error(`the app shell did not open at ${page.url()}${shown}`, { cause: error });
  }
  return new URL(page.url()).pathname;
}

/**
 * Waits until the organisation's assistants have loaded: either their list or the empty state.
 * @param {Page} page
 */
export async function waitForAssistants(page) {
  await page
    .getByRole("list", { name: "Assistants" })
    .or(page.getByRole("heading", { name: "No assistants yet" }))
    .waitFor();
}

/**
 * Polls `read` until it returns `expected` (compared after trimming), or fails with the last value.
 * @param {() => Promise<string | null>} read
 * @param {string} expected
 * @param {string} what
 */
export async function expectEventually(read, expected, what) {
  const deadline = Date.now() + config.timeoutMs;
  let actual = null;
  while (Date.now() < deadline) {
    actual = (await read())?.trim() ?? null;
    if (actual === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(actual, expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/**
 * Asserts an element's visible text, leaving out visually hidden helper text such as "Role: ".
 * @param {Locator} locator
 * @param {string} expected
 * @param {string} [what]
 */
export async function expectVisibleText(locator, expected, what = "text") {
  await locator.waitFor();
  await expectEventually(
    () =>
      locator.evaluate((element) => {
        const clone = /** @type {HTMLElement} */ (element.cloneNode(true));
        clone.querySelectorAll(".visually-hidden").forEach((hidden) => {
          hidden.remove();
        });
        return clone.textContent;
      }),
    expected,
    what,
  );
}

/**
 * Asserts that no element matches. Call it once the region it would be in has rendered.
 * @param {Locator} locator
 * @param {string} what
 */
export async function expectAbsent(locator, what) {
  assert.equal(await locator.count(), 0, `${what} should not be on the page`);
}

/**
 * Why the Agent Server runtime can't be tested, or null when it can: the chat tests need
 * `GET /agent/info` to answer 200.
 */
export async function agentUnavailable() {
  try {
    const response = await fetch(`${config.baseUrl}/agent/info`, { signal: AbortSignal.timeout(5000) });
    return response.status === 200 ? null : `GET /agent/info answered ${response.status}`;
  } catch (error) {
    return `GET /agent/info failed (${error instanceof Error ? error.message : String(error)})`;
  }
}

export { assert };
