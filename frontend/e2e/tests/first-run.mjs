// The first minutes on a fresh install: `make dev` (here e2e.sh) migrates and seeds an empty
// database, and nothing else has happened. An end user signs in, finds the demo agent without anyone
// having called the Agent API first, and starts from a suggested prompt that the offline model
// answers as a real model would: a plan kept as todos.
import { answers, ORG, RUN_TIMEOUT_MS, screenshot } from "../chat-support.mjs";
import { assert, demoUsers, expectEventually, signIn, url, waitForOrgShell } from "../support.mjs";

/** @typedef {import("../run.mjs").E2ETest} E2ETest */

/** @type {E2ETest[]} */
export const tests = [
  {
    name: "first run: an end user finds the seeded demo agent and makes a plan from a suggested prompt",
    requires: "agent",
    async run({ page }) {
      await signIn(page, demoUsers.user);
      await waitForOrgShell(page);

      // The assistants come from the seed (its demo settings prove it: the approval example and the
      // demo MCP server e2e.sh started), not from a lazy first API call.
      const assistants = page.getByRole("list", { name: "Assistants" });
      await assistants.getByRole("heading", { name: "agent", exact: true }).waitFor();
      const listed = await page.request.get(url(`/api/v1/orgs/${ORG}/assistants?graph_id=agent`));
      assert.equal(listed.status(), 200);
      const agents = /** @type {{ name: string, context: Record<string, unknown> }[]} */ (await listed.json());
      assert.deepEqual(
        agents.filter((assistant) => assistant.name === "agent").map((assistant) => assistant.context),
        [{ interrupt_on: ["edit_file"], mcp_servers: ["demo-shop"] }],
      );

      await page.getByRole("link", { name: "Chat with agent" }).click();
      await page.getByRole("heading", { name: "Chat with agent" }).waitFor();
      const suggestions = page.getByRole("list", { name: "Suggested prompts" });
      await suggestions.waitFor();
      assert.equal(await suggestions.getByRole("button").count(), 4);
      await screenshot(page, "first-run-suggestions");

      await suggestions.getByRole("button", { name: /Make a plan/ }).click();

      await answers(page).filter({ hasText: /^Here is the plan for a weekend in Lisbon:/ }).waitFor({ timeout: RUN_TIMEOUT_MS });
      const calls = page.getByTestId("tool-call").filter({ hasText: "write_todos" });
      await expectEventually(async () => String(await calls.count()), "4", "write_todos calls");
      const finalPlan = page.getByRole("list", { name: "Plan" }).last();
      await expectEventually(
        async () => (await finalPlan.getByRole("listitem").evaluateAll((items) => items.map((item) => item.getAttribute("data-status")))).join(","),
        "completed,completed,completed",
        "the statuses of the final plan",
      );
      await finalPlan.getByText("Outline a weekend in Lisbon step by step").waitFor();
      await screenshot(page, "first-run-plan");
    },
  },
];
