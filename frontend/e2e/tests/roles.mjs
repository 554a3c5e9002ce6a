// What each role is offered: an end user chats but never sees an assistant's settings, a builder
// changes them, an admin approves egress hosts and grants secrets. The server checks every request
// again; these tests also make sure the app and the server agree.
import { ORG, answers, csrfHeader, ensureAssistant, openNewChat, screenshot, send, unique, waitForExactText } from "../chat-support.mjs";
import { assert, demoUsers, expectAbsent, expectEventually, signIn, url, waitForAssistants, waitForOrgShell } from "../support.mjs";

/** @typedef {import("playwright-core").Page} Page */

/** An assistant only these tests change, so the chat tests' assistants keep their settings. */
const SETTINGS_ASSISTANT = { name: "E2E settings", graph_id: "agent", context: { model: "offline" } };
const GRANTS_ASSISTANT = { name: "E2E grants", graph_id: "agent", context: { model: "offline" } };
const APPROVED_HOST = "api.e2e.example";
const SECRET = "E2E_SEARCH_KEY";

/** @param {Page} page @param {string} email */
async function signInAs(page, email) {
  await page.context().clearCookies();
  await signIn(page, email);
  await waitForOrgShell(page);
}

/** @param {string} assistantId */
function settingsPath(assistantId) {
  return `/o/${ORG}/assistants/${assistantId}/settings`;
}

/** Opens an assistant's settings the way a builder finds them: from its card. @param {Page} page @param {string} name */
async function openSettingsFromCard(page, name) {
  await page.goto(url(`/o/${ORG}`));
  await waitForAssistants(page);
  await page.getByRole("link", { name: `Settings of ${name}` }).click();
  await page.getByRole("heading", { name, exact: true }).waitFor();
}

/** @type {import("../run.mjs").E2ETest[]} */
export const tests = [
  {
    name: "roles: an end user chats, and is offered no assistant settings (the settings address says not allowed)",
    requires: "agent",
    async run({ page }) {
      await signInAs(page, demoUsers.builder);
      const assistantId = await ensureAssistant(page, SETTINGS_ASSISTANT);
      await page.context().clearCookies();

      await openNewChat(page, demoUsers.user, SETTINGS_ASSISTANT);
      const text = unique("hello from an end user");
      await send(page, text);
      await waitForExactText(answers(page), `You said: ${text}`, "the answer");
      await expectAbsent(page.getByRole("link", { name: "Assistant settings" }), "the chat's settings link");

      await page.goto(url(`/o/${ORG}`));
      await waitForAssistants(page);
      await page.getByRole("link", { name: `Chat with ${SETTINGS_ASSISTANT.name}` }).waitFor();
      await expectAbsent(page.getByRole("link", { name: /^Settings of / }), "a settings link on the assistants page");
      await expectAbsent(page.getByRole("link", { name: "Policy" }), "the Policy link");
      await expectAbsent(page.getByRole("link", { name: "Admin" }), "the Admin link");

      await page.goto(url(settingsPath(assistantId)));
      await page.getByRole("heading", { name: "Not allowed" }).waitFor();
      await expectAbsent(page.getByRole("form", { name: "Assistant settings" }), "the settings form");

      const patched = await page.request.patch(url(`/api/v1/orgs/${ORG}/assistants/${assistantId}`), {
        data: { context: { model: "offline", system_prompt: "pwned" } },
        headers: await csrfHeader(page),
      });
      assert.equal(patched.status(), 403, "an end user's PATCH of an assistant");
    },
  },
  {
    name: "roles: a builder changes an assistant's system prompt, and it is still there after a reload",
    async run({ page }) {
      await signInAs(page, demoUsers.builder);
      await ensureAssistant(page, SETTINGS_ASSISTANT);
      await openSettingsFromCard(page, SETTINGS_ASSISTANT.name);
      await expectAbsent(page.getByRole("link", { name: "Policy" }), "the Policy link");

      const prompt = unique("You are the E2E assistant. Answer briefly.");
      await page.getByLabel("System prompt").fill(prompt);
      await page.getByLabel("Tools that need approval").fill("write_file");
      const pii = page.getByRole("list", { name: "PII rules" });
      if ((await pii.getByRole("listitem").count()) === 0) await page.getByRole("button", { name: "Add PII rule" }).click();
      await pii.getByLabel("Strategy").first().selectOption("mask");
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.getByText(/^Saved as version \d+\.$/).waitFor();
      await page.reload();

      await page.getByRole("heading", { name: SETTINGS_ASSISTANT.name, exact: true }).waitFor();
      await expectEventually(() => page.getByLabel("System prompt").inputValue(), prompt, "the saved system prompt");
      assert.equal(await page.getByLabel("Tools that need approval").inputValue(), "write_file", "the saved approvals");
      assert.equal(await pii.getByLabel("Type").first().inputValue(), "email", "the saved PII rule's type");
      assert.equal(await pii.getByLabel("Strategy").first().inputValue(), "mask", "the saved PII rule's strategy");
      await expectAbsent(page.getByRole("button", { name: "Save grants" }), "the Save grants button");
      await screenshot(page, "assistant-settings-builder");
    },
  },
  {
    // Needs GET/PUT /policy and /assistants/{id}/grants and policy enforcement on PATCH (the role contract).
    name: "roles: an admin approves an egress host, grants a secret, and a host outside the policy is refused inline",
    async run({ page }) {
      await signInAs(page, demoUsers.admin);
      const secretUrl = url(`/api/v1/orgs/${ORG}/secrets/${SECRET}`);
      const secret = await page.request.put(secretUrl, { data: { value: "e2e-not-a-real-key", description: "E2E" }, headers: await csrfHeader(page) });
      assert.equal(secret.status(), 200, `PUT ${secretUrl}: ${await secret.text()}`);
      await ensureAssistant(page, GRANTS_ASSISTANT);

      await page.getByRole("link", { name: "Policy" }).click();
      const hosts = page.getByLabel("Approved egress hosts");
      await hosts.waitFor();
      const current = (await hosts.inputValue()).split(/\s+/).filter((host) => host && host !== APPROVED_HOST);
      await hosts.fill([...current, APPROVED_HOST].join("\n"));
      await page.getByRole("button", { name: "Save policy" }).click();
      await page.getByText("Policy saved.").waitFor();

      await openSettingsFromCard(page, GRANTS_ASSISTANT.name);
      await page.getByRole("list", { name: "Approved hosts" }).getByText(APPROVED_HOST, { exact: true }).waitFor();
      await page.getByRole("button", { name: "Add egress rule" }).click();
      await page.getByLabel("Host").last().fill("evil.e2e.example");
      await page.getByRole("button", { name: "Save settings" }).click();
      const refusal = page.getByTestId("settings-error");
      await refusal.waitFor();
      assert.match((await refusal.textContent()) ?? "", /evil\.e2e\.example/, "the refusal names the host");
      assert.equal(await page.getByLabel("Host").last().inputValue(), "evil.e2e.example", "the typed host is kept");

      const grants = page.getByTestId("grants-section");
      const box = grants.getByRole("checkbox", { name: SECRET });
      if (!(await box.isChecked())) await box.check();
      await grants.getByRole("button", { name: "Save grants" }).click();
      await grants.getByText("Grants saved.").waitFor();
      await screenshot(page, "assistant-settings-admin");
      await page.reload();
      await page.getByTestId("grants-section").getByRole("checkbox", { name: SECRET }).waitFor();
      assert.ok(await page.getByTestId("grants-section").getByRole("checkbox", { name: SECRET }).isChecked(), "the grant after a reload");
    },
  },
];
