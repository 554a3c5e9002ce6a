// User paths through the chat, against a running Atrium whose Agent Server runtime answers
// GET /agent/info with 200 (otherwise the runner skips these). They use the demo org's users and
// the offline model; see chat-support.mjs for the test assistants they create.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  answers,
  assistants,
  ORG,
  openNewChat,
  recordAnswerTexts,
  RUN_TIMEOUT_MS,
  screenshot,
  send,
  unique,
  waitForExactText,
  waitForThreadUrl,
} from "../chat-support.mjs";
import { assert, demoUsers, expectAbsent, expectEventually, signIn, url, waitForOrgShell } from "../support.mjs";

/** @typedef {import("../run.mjs").E2ETest} E2ETest */

/** @param {string} text */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** @type {E2ETest[]} */
export const tests = [
  {
    name: "chat: a file the agent writes in its sandbox is offered for download to the thread's owner only",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder, assistants.sandbox);
      const marker = randomUUID();

      await send(page, `run \`mkdir -p /workspace/out && echo 'total ${marker}' > /workspace/out/report.txt\``);

      await waitForThreadUrl(page);
      const files = page.getByRole("list", { name: "Files from this conversation" });
      const link = files.getByRole("link", { name: "out/report.txt" });
      await link.waitFor({ timeout: RUN_TIMEOUT_MS });
      const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
      assert.equal(download.suggestedFilename(), "report.txt");
      const saved = await download.path();
      assert.ok(saved, "the download was saved");
      assert.equal(readFileSync(saved, "utf8"), `total ${marker}\n`);

      // Another member of the organisation, an admin included, cannot fetch it.
      const href = await link.getAttribute("href");
      assert.ok(href);
      await page.context().clearCookies();
      await signIn(page, demoUsers.admin);
      await waitForOrgShell(page);
      assert.equal((await page.request.get(url(href))).status(), 404);
    },
  },
  {
    name: "chat: a builder sees the answer stream in, and the conversation gets its own address",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder, assistants.slow);
      await page.getByTestId("offline-model").waitFor();
      const seenTexts = await recordAnswerTexts(page);
      const words = unique("stream these words one two three four five six");
      const expected = `You said: ${words}`;

      await send(page, words);

      const path = await waitForThreadUrl(page);
      await waitForExactText(answers(page), expected, "the answer");
      const partial = (await seenTexts()).filter((text) => text !== expected);
      assert.ok(partial.length >= 3, `the answer should arrive in several chunks; saw ${JSON.stringify(partial)}`);
      assert.ok(
        partial.every((text) => expected.startsWith(text)),
        `every partial answer should be a beginning of the final one: ${JSON.stringify(partial)}`,
      );
      const conversations = page.getByRole("list", { name: "Your conversations" });
      await conversations.getByRole("link", { name: new RegExp(escapeRegExp(words)) }).waitFor({ timeout: RUN_TIMEOUT_MS });

      // The address opens the same conversation later, with its history.
      await page.goto(url(path));
      await waitForExactText(answers(page), expected, "the answer after opening the address again");
      assert.equal(await page.getByTestId("message-human").count(), 1);
    },
  },
  {
    name: "chat: reloading the page mid-answer rejoins the run and the answer completes once",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder, assistants.slow);
      const words = unique(Array.from({ length: 80 }, (_, index) => `w${String(index)}`).join(" "));
      const expected = `You said: ${words}`;

      await send(page, words);
      await waitForThreadUrl(page);
      await expectEventually(
        async () => {
          const text = (await answers(page).last().textContent().catch(() => "")) ?? "";
          return text.startsWith("You said: w0 w1") && text !== expected ? "partial" : text;
        },
        "partial",
        "a partly streamed answer before the reload",
      );
      await page.reload();

      await waitForExactText(answers(page), expected, "the answer after the reload");
      await page.getByRole("button", { name: "Send" }).waitFor({ timeout: RUN_TIMEOUT_MS });
      const texts = (await answers(page).allTextContents()).map((text) => text.trim());
      assert.deepEqual(texts, [expected], "exactly one, complete answer");
      assert.equal(await page.getByTestId("message-human").count(), 1, "the question is shown once");
    },
  },
  {
    name: "chat: the agent asks before writing a file, and continues once approved",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder, assistants.approvals);
      const fact = unique("the approved fact is");

      await send(page, `remember that ${fact}`);

      const request = page.getByTestId("interrupt");
      await request.waitFor({ timeout: RUN_TIMEOUT_MS });
      await request.getByRole("heading", { name: "The assistant needs your approval" }).waitFor();
      await request.getByText("write_file", { exact: true }).waitFor();
      await screenshot(page, "chat-approval-request");
      await request.getByRole("button", { name: "Approve", exact: true }).click();

      await waitForExactText(answers(page), `I will remember that ${fact}.`, "the answer after the approval");
      await expectAbsent(page.getByTestId("interrupt"), "the approval request");
    },
  },
  {
    name: "chat: editing a message starts a new version, and both versions stay reachable",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder);
      const first = unique("first version");
      const second = unique("second version");
      await send(page, first);
      await waitForExactText(answers(page), `You said: ${first}`, "the first answer");

      await page.getByRole("button", { name: "Edit this message" }).click({ timeout: RUN_TIMEOUT_MS });
      await page.getByRole("textbox", { name: "Edit your message" }).fill(second);
      await page.getByRole("button", { name: "Save and send" }).click();

      await waitForExactText(answers(page), `You said: ${second}`, "the answer to the edited message");
      const position = page.getByTestId("branch-position").first();
      await expectEventually(() => position.textContent({ timeout: RUN_TIMEOUT_MS }), "2 / 2", "the version shown");
      await page.getByRole("button", { name: "Previous version" }).click();
      await waitForExactText(answers(page), `You said: ${first}`, "the first version's answer");
      await expectEventually(() => position.textContent(), "1 / 2", "the version shown");
      await page.getByText("You are looking at an earlier version of this conversation.").waitFor();
      await page.getByRole("button", { name: "Next version" }).click();
      await waitForExactText(answers(page), `You said: ${second}`, "the second version's answer");
    },
  },
  {
    name: "chat: regenerating an answer adds a second version of it",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder);
      const text = unique("answer twice");
      await send(page, text);
      await waitForExactText(answers(page), `You said: ${text}`, "the answer");

      await page.getByRole("button", { name: "Regenerate this answer" }).click({ timeout: RUN_TIMEOUT_MS });

      const position = page.getByTestId("branch-position");
      await expectEventually(() => position.textContent({ timeout: RUN_TIMEOUT_MS }), "2 / 2", "the answer's version");
      await waitForExactText(answers(page), `You said: ${text}`, "the regenerated answer");
      await page.getByRole("button", { name: "Previous version" }).click();
      await expectEventually(() => position.textContent(), "1 / 2", "the answer's version");
    },
  },
  {
    name: "chat: Stop ends a run, also one rejoined after a reload",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder, assistants.slow);
      const words = unique(Array.from({ length: 150 }, (_, index) => `s${String(index)}`).join(" "));
      await send(page, words);
      await waitForThreadUrl(page);
      await answers(page).first().waitFor({ timeout: RUN_TIMEOUT_MS });
      await page.reload();

      await page.getByRole("button", { name: "Stop" }).click({ timeout: RUN_TIMEOUT_MS });

      await page.getByRole("button", { name: "Send" }).waitFor();
      // Tokens already on their way may still land; then the answer must stop growing.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const stopped = (await answers(page).allTextContents()).join("");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal((await answers(page).allTextContents()).join(""), stopped, "the answer kept growing after Stop");
      assert.ok(!stopped.endsWith(words), "the run should have been stopped before the end of the answer");
    },
  },
  {
    // The second user is the viewer: org admins may read every thread of their org by design.
    name: "chat: another user's conversation address is a 404",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder);
      const secret = unique("only for the builder");
      await send(page, secret);
      const path = await waitForThreadUrl(page);
      await waitForExactText(answers(page), `You said: ${secret}`, "the answer");
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();

      await signIn(page, demoUsers.viewer);
      await waitForOrgShell(page);
      await page.goto(url(path));

      await page.getByRole("heading", { name: "Conversation not found" }).waitFor();
      await expectAbsent(page.getByText(secret), "the other user's message");
      const threadId = path.split("/").at(-1) ?? "";
      const direct = await page.request.get(url(`/agent/threads/${threadId}`), { headers: { "X-Atrium-Org": ORG } });
      assert.equal(direct.status(), 404, "GET /agent/threads/{id} for someone else's thread");
    },
  },
  {
    name: "chat: a viewer can read but cannot send",
    requires: "agent",
    async run({ page }) {
      await signIn(page, demoUsers.viewer);
      await waitForOrgShell(page);
      await page.goto(url(`/o/${ORG}/chat`));

      await page.getByTestId("read-only-note").waitFor();
      await expectAbsent(page.getByRole("textbox", { name: "Message" }), "the message box");
      const cookies = await page.context().cookies(url("/"));
      const response = await page.request.post(url(`/agent/threads/${randomUUID()}/commands`), {
        headers: { "X-Atrium-Org": ORG, "X-CSRFToken": cookies.find((cookie) => cookie.name === "csrftoken")?.value ?? "" },
        data: { id: 1, method: "run.start", params: { assistant_id: "agent", input: { messages: [{ type: "human", content: "hi" }] } } },
      });
      assert.equal(response.status(), 403, "a viewer's run.start");
    },
  },
  {
    name: "chat: a subagent's progress shows while it works",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder, assistants.slow);

      await send(page, unique("research tea"));

      const subagent = page.getByTestId("subagent");
      await subagent.waitFor({ timeout: RUN_TIMEOUT_MS });
      await subagent.getByText("researcher").waitFor();
      await expectEventually(() => subagent.getAttribute("data-status", { timeout: RUN_TIMEOUT_MS }), "complete", "the subagent's status");
      await answers(page).filter({ hasText: /^The subagent reports:/ }).waitFor({ timeout: RUN_TIMEOUT_MS });
      await page.getByRole("button", { name: "Send" }).waitFor({ timeout: RUN_TIMEOUT_MS });
    },
  },
  {
    name: "chat: the memory page shows what the agent remembered, and deletes it",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder);
      const fact = unique("my memory test fact is");
      await send(page, `remember that ${fact}`);
      await waitForExactText(answers(page), `I will remember that ${fact}.`, "the answer");

      await page.getByRole("link", { name: "Memory", exact: true }).click();
      const file = page.getByTestId("memory-file").filter({ hasText: "/memories/notes.md" });
      await file.waitFor();
      await file.getByRole("button", { name: "/memories/notes.md", exact: true }).click();
      await file.getByText(fact, { exact: false }).waitFor();
      await screenshot(page, "chat-memory-file");
      await file.getByRole("button", { name: "Delete /memories/notes.md" }).click();
      await file.getByRole("button", { name: "Delete", exact: true }).click();

      await expectEventually(async () => String(await file.count()), "0", "memory files named /memories/notes.md");
    },
  },
  {
    name: "chat: a conversation can be renamed and deleted from the list",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder);
      const text = unique("to rename");
      const renamed = unique("Renamed conversation");
      await send(page, text);
      await waitForExactText(answers(page), `You said: ${text}`, "the answer");
      const list = page.getByRole("list", { name: "Your conversations" });
      const item = list.getByTestId("thread-item").filter({ hasText: text });

      await item.getByRole("button", { name: `Rename ${text}` }).click({ timeout: RUN_TIMEOUT_MS });
      await page.getByRole("textbox", { name: "New title" }).fill(renamed);
      await page.getByRole("button", { name: "Save", exact: true }).click();
      const renamedItem = list.getByTestId("thread-item").filter({ hasText: renamed });
      await renamedItem.waitFor();
      await renamedItem.getByRole("button", { name: `Delete ${renamed}` }).click();
      await renamedItem.getByRole("button", { name: "Delete", exact: true }).click();

      await page.waitForURL((current) => current.pathname === `/o/${ORG}/chat`);
      await expectEventually(async () => String(await renamedItem.count()), "0", "conversations with the new title");
    },
  },
  {
    name: "chat: fits a 360px-wide screen",
    requires: "agent",
    viewport: { width: 360, height: 740 },
    async run({ page }) {
      await openNewChat(page, demoUsers.builder);
      const text = unique("a message on a small screen");
      await send(page, text);
      await waitForExactText(answers(page), `You said: ${text}`, "the answer");

      await page.getByRole("button", { name: "Conversations" }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${String(overflow)}px`);
    },
  },
];
