#!/usr/bin/env node
// Runs the browser tests in e2e/tests/ against a running Atrium, driving Debian's Chromium with
// playwright-core (no browser download). Each test gets a fresh browser context, so no cookies
// leak between tests, and leaves a screenshot in e2e/screenshots/.
//
//   ATRIUM_URL            base URL of the running app      (default http://127.0.0.1:8000)
//   CHROMIUM_PATH         Chromium executable              (default /usr/bin/chromium)
//   ATRIUM_DEMO_PASSWORD  password of the demo users       (default atrium-demo)
//   E2E_FILTER            run only tests whose name contains this text
//   E2E_TIMEOUT_MS        per-action timeout               (default 10000)
//
// The last line is "N passed, N failed" (plus ", N skipped" when tests needing the Agent Server
// runtime were skipped because GET /agent/info did not answer 200); the exit code is non-zero when
// anything failed.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { agentUnavailable, config } from "./support.mjs";
import { tests as authTests } from "./tests/auth.mjs";
import { tests as chatTests } from "./tests/chat.mjs";
import { tests as connectionsTests } from "./tests/connections.mjs";
import { tests as filesTests } from "./tests/files.mjs";
import { tests as firstRunTests } from "./tests/first-run.mjs";
import { tests as rolesTests } from "./tests/roles.mjs";
import { tests as usageTests } from "./tests/usage.mjs";

/**
 * @typedef {object} E2ETest
 * @property {string} name
 * @property {{ width: number, height: number }} [viewport]
 * @property {"agent"} [requires] the Agent Server runtime; skipped while `GET /agent/info` is not 200
 * @property {(context: { page: import("playwright-core").Page }) => Promise<void>} run
 */

/** @type {E2ETest[]} */
// The first-run test goes first: it checks what a freshly seeded database offers before any other
// test has used the Agent API.
const allTests = [...firstRunTests, ...authTests, ...chatTests, ...filesTests, ...connectionsTests, ...rolesTests, ...usageTests];

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const screenshotDir = fileURLToPath(new URL("./screenshots/", import.meta.url));

/** @param {string} name */
function slug(name) {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 80);
}

/** @param {unknown} error */
function describe(error) {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return text
    .split("\n")
    .slice(0, 8)
    .map((line) => `    ${line}`)
    .join("\n");
}

/** @param {number} passed @param {number} failed @param {number} [skipped] */
function finish(passed, failed, skipped = 0) {
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

/** Fails fast, with one clear reason, when the runner cannot start at all. */
async function preflight() {
  if (!existsSync(config.chromiumPath)) {
    return `Chromium not found at ${config.chromiumPath} (set CHROMIUM_PATH, or apt-get install chromium).`;
  }
  try {
    const response = await fetch(`${config.baseUrl}/api/v1/auth/csrf`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return `${config.baseUrl} answered ${response.status} to /api/v1/auth/csrf; is Atrium running?`;
  } catch (error) {
    return `Cannot reach ${config.baseUrl} (${error instanceof Error ? error.message : String(error)}); is Atrium running?`;
  }
  return null;
}

async function main() {
  const filter = process.env.E2E_FILTER ?? "";
  const selected = allTests.filter((test) => test.name.includes(filter));
  console.log(`e2e: ${selected.length} test(s) against ${config.baseUrl}`);

  const problem = await preflight();
  if (problem) {
    console.log(`not ok - setup: ${problem}`);
    finish(0, selected.length);
    return;
  }

  const agentProblem = selected.some((test) => test.requires === "agent") ? await agentUnavailable() : null;
  if (agentProblem) {
    console.log(`# the Agent Server runtime is not available (${agentProblem}): its tests are skipped`);
  }

  await mkdir(screenshotDir, { recursive: true });
  const browser = await chromium.launch({ executablePath: config.chromiumPath, args: CHROMIUM_ARGS });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    for (const [index, test] of selected.entries()) {
      if (test.requires === "agent" && agentProblem) {
        skipped += 1;
        console.log(`ok ${index + 1} - ${test.name} # SKIP ${agentProblem}`);
        continue;
      }
      const context = await browser.newContext({ viewport: test.viewport ?? { width: 1280, height: 800 } });
      context.setDefaultTimeout(config.timeoutMs);
      const page = await context.newPage();
      /** @type {string[]} */
      const pageErrors = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      const started = Date.now();
      let error = null;
      try {
        await test.run({ page });
        if (pageErrors.length > 0) throw new Error(`uncaught error in the page: ${pageErrors.join("; ")}`);
      } catch (caught) {
        error = caught;
      }
      const screenshot = `${screenshotDir}${String(index + 1).padStart(2, "0")}-${slug(test.name)}.png`;
      await page.screenshot({ path: screenshot, fullPage: true }).catch(() => undefined);
      await context.close();

      const elapsed = `${Date.now() - started} ms`;
      if (error === null) {
        passed += 1;
        console.log(`ok ${index + 1} - ${test.name} (${elapsed})`);
      } else {
        failed += 1;
        console.log(`not ok ${index + 1} - ${test.name} (${elapsed})\n${describe(error)}\n    screenshot: ${screenshot}`);
      }
    }
  } finally {
    await browser.close();
  }
  finish(passed, failed, skipped);
}

main().catch((error) => {
  console.log(`not ok - runner crashed\n${describe(error)}`);
  finish(0, 1);
});
