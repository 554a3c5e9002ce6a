// Helpers for the chat tests: test assistants, opening a chat, sending, and reading answers.
// They rely on the deterministic offline model (see agents/.../models/offline.py): it answers
// "You said: <text>" one word per chunk, and "offline:slow" waits 50 ms between chunks.
import { fileURLToPath } from "node:url";
import { assert, config, signIn, url, waitForOrgShell } from "./support.mjs";

/** @typedef {import("playwright-core").Page} Page */
/** @typedef {import("playwright-core").Locator} Locator */

export const ORG = "demo";
/** Long enough for a reply to stream, and for a page reload mid-answer. */
export const RUN_TIMEOUT_MS = Math.max(config.timeoutMs, 30_000);

/** Test assistants, created once per database through the control plane and reused after. */
export const assistants = {
  slow: { name: "E2E slow agent", graph_id: "agent", context: { model: "offline:slow" } },
  approvals: { name: "E2E approvals", graph_id: "agent", context: { model: "offline:slow", interrupt_on: ["write_file"] } },
  sandbox: { name: "E2E sandbox", graph_id: "agent", context: { model: "offline", sandbox: "thread" } },
};

/** @param {string} prefix */
export function unique(prefix) {
  return `${prefix} ${Math.random().toString(36).slice(2, 8)}`;
}

/** The CSRF header for a request made with `page.request` after signing in. @param {Page} page */
export async function csrfHeader(page) {
  const cookies = await page.context().cookies(config.baseUrl);
  const token = cookies.find((cookie) => cookie.name === "csrftoken")?.value;
  assert.ok(token, "no csrftoken cookie after signing in");
  return { "X-CSRFToken": token };
}

/**
 * The id of a test assistant, creating it if this organisation doesn't have it yet. Needs a signed-in
 * builder or admin on `page`.
 * @param {Page} page
 * @param {{ name: string, graph_id: string, context: Record<string, unknown> }} spec
 */
export async function ensureAssistant(page, spec) {
  const listUrl = url(`/api/v1/orgs/${ORG}/assistants`);
  const listed = await page.request.get(listUrl);
  assert.equal(listed.status(), 200, `GET ${listUrl}`);
  const existing = /** @type {{ id: string, name: string }[]} */ (await listed.json()).find((assistant) => assistant.name === spec.name);
  if (existing) return existing.id;
  const created = await page.request.post(listUrl, { data: spec, headers: await csrfHeader(page) });
  assert.equal(created.status(), 200, `POST ${listUrl}: ${await created.text()}`);
  return /** @type {{ id: string }} */ (await created.json()).id;
}

/**
 * Signs in and opens a new chat, with the given assistant when one is named.
 * @param {Page} page
 * @param {string} email
 * @param {{ name: string, graph_id: string, context: Record<string, unknown> } | null} [spec]
 * @param {((page: Page) => Promise<void>) | null} [prepare] what to set up once signed in, before the
 *   assistant is created (e.g. what an admin must approve for it)
 */
export async function openNewChat(page, email, spec = null, prepare = null) {
  await signIn(page, email);
  await waitForOrgShell(page);
  if (prepare) await prepare(page);
  const assistantId = spec ? await ensureAssistant(page, spec) : null;
  await page.goto(url(`/o/${ORG}/chat${assistantId ? `?assistant=${assistantId}` : ""}`));
  await page.getByRole("heading", { name: /^Chat with / }).waitFor();
  return assistantId;
}

/** @param {Page} page @param {string} text */
export async function send(page, text) {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
}

/** The text of every assistant answer (its Markdown, without the buttons under it). @param {Page} page */
export function answers(page) {
  return page.locator('[data-testid="message-ai"] > .markdown');
}

/** A screenshot of a moment inside a test (the runner takes one at the end of each). @param {Page} page @param {string} name */
export async function screenshot(page, name) {
  await page.screenshot({ path: fileURLToPath(new URL(`./screenshots/${name}.png`, import.meta.url)), fullPage: true });
}

/**
 * Waits until some element of `locator` has exactly `expected` as its (trimmed) text.
 * @param {Locator} locator
 * @param {string} expected
 * @param {string} what
 */
export async function waitForExactText(locator, expected, what, timeout = RUN_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  /** @type {string[]} */
  let texts = [];
  while (Date.now() < deadline) {
    texts = (await locator.allTextContents()).map((text) => text.trim());
    if (texts.includes(expected)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`${what}: expected ${JSON.stringify(expected)} among ${JSON.stringify(texts)}`);
}

/** The thread id in the address bar, once the first message gave the chat one. @param {Page} page */
export async function waitForThreadUrl(page) {
  await page.waitForURL((current) => new RegExp(`^/o/${ORG}/t/[0-9a-f-]{36}$`).test(current.pathname), { timeout: RUN_TIMEOUT_MS });
  return new URL(page.url()).pathname;
}

/**
 * Records, in the page, every distinct text the newest answer shows while it streams.
 * @param {Page} page
 */
export async function recordAnswerTexts(page) {
  await page.evaluate(() => {
    const seen = /** @type {string[]} */ ([]);
    /** @type {Window & { e2eAnswerTexts?: string[] }} */ (window).e2eAnswerTexts = seen;
    new MutationObserver(() => {
      const all = document.querySelectorAll('[data-testid="message-ai"] > .markdown');
      const text = all[all.length - 1]?.textContent?.trim() ?? "";
      if (text && seen.at(-1) !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return async () => page.evaluate(() => /** @type {Window & { e2eAnswerTexts?: string[] }} */ (window).e2eAnswerTexts ?? []);
}
