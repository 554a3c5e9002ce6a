// Files in and the plan in view, with the seeded demo agent on the offline model: a file attached in
// the browser lands in the thread and the agent reads it (its answer quotes the file), and the
// agent's todos show as a checklist that it ticks off step by step.
import { randomUUID } from "node:crypto";
import { answers, openNewChat, RUN_TIMEOUT_MS, screenshot, send, waitForThreadUrl } from "../chat-support.mjs";
import { assert, demoUsers, expectEventually } from "../support.mjs";

/** @typedef {import("../run.mjs").E2ETest} E2ETest */

/** @type {E2ETest[]} */
export const tests = [
  {
    name: "files: a file attached in the browser is read by the agent and listed in the conversation",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.user);
      const marker = `revenue grew ${randomUUID().slice(0, 8)}`;

      await page.getByTestId("attach-input").setInputFiles({
        name: "figures.md",
        mimeType: "text/markdown",
        buffer: Buffer.from(`Quarterly figures\n${marker}\n`),
      });
      await page.getByRole("list", { name: "Attached files" }).getByText("figures.md").waitFor();
      await send(page, "Summarise the attached file");

      await waitForThreadUrl(page);
      // the answer streams in: wait until it holds the file's last line, then read it whole
      const answer = answers(page).filter({ hasText: "/uploads/figures.md begins:" }).filter({ hasText: marker });
      await answer.waitFor({ timeout: RUN_TIMEOUT_MS });
      assert.match((await answer.textContent()) ?? "", new RegExp(`Quarterly figures\\s*${marker}`));
      // the tool calls the agent made are shown with their results
      await page.getByTestId("tool-call").filter({ hasText: "read_file" }).first().waitFor();
      const files = page.getByRole("list", { name: "Files in this conversation" });
      await files.getByRole("button", { name: "/uploads/figures.md" }).waitFor({ timeout: RUN_TIMEOUT_MS });
      await screenshot(page, "files-attached-and-read");
    },
  },
  {
    name: "plan: the agent's todos are shown and ticked off as it works",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.user);

      await send(page, "Plan a day in Porto");

      await answers(page).filter({ hasText: /^Here is the plan for a day in Porto:/ }).waitFor({ timeout: RUN_TIMEOUT_MS });
      // each write_todos call shows the plan as it was: one step further each time
      const calls = page.getByTestId("tool-call").filter({ hasText: "write_todos" });
      await expectEventually(async () => String(await calls.count()), "4", "write_todos calls");
      const statuses = await calls.evaluateAll((cards) =>
        cards.map((card) => [...card.querySelectorAll("[data-status]")].map((item) => item.getAttribute("data-status")).join(",")),
      );
      assert.deepEqual(statuses, [
        "in_progress,pending,pending",
        "completed,in_progress,pending",
        "completed,completed,in_progress",
        "completed,completed,completed",
      ]);
      // and the current plan, pinned above the message box, ends with every step done
      const panel = page.getByTestId("plan-panel");
      await expectEventually(
        async () => (await panel.getByRole("listitem").evaluateAll((items) => items.map((item) => item.getAttribute("data-status")))).join(","),
        "completed,completed,completed",
        "the statuses of the current plan",
      );
      await page.getByRole("heading", { name: "Plan 3 of 3 done" }).waitFor();
      await screenshot(page, "plan-ticked-off");
    },
  },
];
