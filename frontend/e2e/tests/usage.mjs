// Usage and MCP servers on the real stack. After a chat with the seeded demo agent (offline model,
// which reports token usage), the user's Usage page shows the figures `/usage/me` counts, and an
// admin sees the org's usage by member. The demo agent calls a tool of the demo MCP server (which
// e2e.sh starts and seed_demo registers, as `make dev` does), and the chat shows the call, its result
// and the answer. A builder gives an assistant an MCP server an admin registered, and the choice is
// saved through the server's policy check.
import { ORG, RUN_TIMEOUT_MS, answers, csrfHeader, ensureAssistant, openNewChat, screenshot, send, unique, waitForExactText } from "../chat-support.mjs";
import { assert, config, demoUsers, expectEventually, signIn, url, waitForOrgShell } from "../support.mjs";

/** @typedef {import("playwright-core").Page} Page */
/** @typedef {{ calls: number, input_tokens: number, output_tokens: number, cached_input_tokens: number, total_tokens: number }} Totals */

const MCP_ASSISTANT = { name: "E2E MCP", graph_id: "agent", context: { model: "offline" } };
const MCP_SERVER = { name: "e2e-wiki", transport: "streamable_http", url: "https://mcp.e2e.example/mcp" };
// What the demo MCP server (backend/atrium/mcp_servers/demo_server.py) answers for order A-17.
const DEMO_ORDER = "order A-17: shipped on 2026-12-01, 3 parcels, arriving 2026-12-04";
const FIGURES = /** @type {const} */ (["calls", "input_tokens", "cached_input_tokens", "output_tokens", "total_tokens"]);
const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** @param {Page} page @param {string} email */
async function signInAs(page, email) {
  await page.context().clearCookies();
  await signIn(page, email);
  await waitForOrgShell(page);
}

/** @param {Page} page @returns {Promise<{ totals: Totals }>} */
async function myUsage(page) {
  const response = await page.request.get(url(`/api/v1/orgs/${ORG}/usage/me?period=month`));
  assert.equal(response.status(), 200, "GET /usage/me");
  return response.json();
}

/** The figures the page shows in a totals list, by key. @param {import("playwright-core").Locator} list */
async function shownTotals(list) {
  await list.waitFor();
  const shown = await Promise.all(FIGURES.map((key) => list.getByTestId(`usage-${key}`).textContent()));
  return FIGURES.map((key, index) => `${key}=${shown[index] ?? ""}`).join(" ");
}

/** @param {Totals} totals */
function expectedTotals(totals) {
  return FIGURES.map((key) => `${key}=${number.format(totals[key])}`).join(" ");
}

/** @type {import("../run.mjs").E2ETest[]} */
export const tests = [
  {
    name: "usage: after a chat the user's Usage page shows the tokens /usage/me counts, and an admin sees the org's",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.user);
      const before = (await myUsage(page)).totals;
      const text = unique("count my tokens");
      await send(page, text);
      await waitForExactText(answers(page), `You said: ${text}`, "the answer");
      // The run's usage is written when it ends: wait until the API counts this chat's call.
      const deadline = Date.now() + Math.max(config.timeoutMs, 30_000);
      let after = before;
      while (after.calls <= before.calls && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        after = (await myUsage(page)).totals;
      }
      assert.ok(after.calls > before.calls, `the chat's model call is counted (calls ${before.calls} → ${after.calls})`);
      assert.ok(after.input_tokens > before.input_tokens && after.output_tokens > before.output_tokens, "the chat used tokens");

      await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Usage" }).click();
      await page.getByRole("heading", { name: "Usage", exact: true }).waitFor();
      const mine = page.getByLabel("Your totals");
      await expectEventually(async () => shownTotals(mine), expectedTotals((await myUsage(page)).totals), "the user's totals");
      const byModel = page.getByRole("table", { name: "Your usage by model" });
      await byModel.waitFor();
      assert.ok((await byModel.getByRole("row").count()) > 1, "the usage by model has a row");
      assert.equal(await page.getByTestId("org-usage").count(), 0, "an end user sees no org usage");
      await screenshot(page, "usage-end-user");

      const userTotals = (await myUsage(page)).totals;
      await signInAs(page, demoUsers.admin);
      await page.goto(url(`/o/${ORG}/usage`));
      const orgSection = page.getByTestId("org-usage");
      const byUser = orgSection.getByRole("table", { name: "Organisation usage by user" });
      const row = byUser.getByRole("row").filter({ has: page.getByRole("rowheader", { name: demoUsers.user, exact: true }) });
      await row.waitFor();
      const cells = await row.locator("td").allTextContents();
      // Calls, input, cached input, output, total tokens: the same figures the user's own page shows.
      assert.deepEqual(cells.slice(0, 5), FIGURES.map((key) => number.format(userTotals[key])), "the user's row in the org's usage");
      await orgSection.getByRole("table", { name: "Organisation usage by assistant" }).waitFor();
      await orgSection.getByLabel("Organisation totals").waitFor();
      await screenshot(page, "usage-admin");
    },
  },
  {
    name: "mcp: the demo agent calls the demo MCP server's tool; the chat shows the call, its result and the answer",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.user);
      await send(page, "Use the lookup_order tool for A-17");

      // the offline model answers from the tool's result, as a real model would
      const answer = answers(page).filter({ hasText: "lookup_order returned:" });
      await answer.waitFor({ timeout: RUN_TIMEOUT_MS });
      const said = async () => ((await answer.textContent()) ?? "").replace(/\s+/g, " ").trim();
      await expectEventually(said, `lookup_order returned: ${DEMO_ORDER}`, "the answer quoting the MCP tool's result");
      const card = page.getByTestId("tool-call").filter({ hasText: "lookup_order" });
      await expectEventually(async () => String(await card.count()), "1", "lookup_order calls");
      await expectEventually(async () => (await card.getAttribute("data-status")) ?? "", "done", "the call's status");
      await card.locator("summary").click();
      const [args, result] = await card.locator("pre").allTextContents();
      assert.deepEqual(JSON.parse(args ?? ""), { order_id: "A-17" }, "the call's arguments");
      assert.equal(result, DEMO_ORDER, "the call's result, from the MCP server");
      await screenshot(page, "mcp-tool-called");
    },
  },
  {
    name: "mcp: a builder gives an assistant an MCP server an admin registered, and it is saved",
    async run({ page }) {
      await signInAs(page, demoUsers.admin);
      const listUrl = url(`/api/v1/orgs/${ORG}/mcp-servers`);
      const listed = /** @type {{ name: string }[]} */ (await (await page.request.get(listUrl)).json());
      if (!listed.some((server) => server.name === MCP_SERVER.name)) {
        const created = await page.request.post(listUrl, { data: MCP_SERVER, headers: await csrfHeader(page) });
        assert.equal(created.status(), 201, `POST ${listUrl}: ${await created.text()}`);
      }

      await signInAs(page, demoUsers.builder);
      const assistantId = await ensureAssistant(page, MCP_ASSISTANT);
      await page.goto(url(`/o/${ORG}/assistants/${assistantId}/settings`));
      const servers = page.getByRole("list", { name: "MCP servers" });
      const box = servers.getByRole("checkbox", { name: MCP_SERVER.name, exact: true });
      await box.waitFor();
      await servers.getByText(MCP_SERVER.url).waitFor();
      if (!(await box.isChecked())) await box.check();
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.getByText(/^Saved as version \d+\.$/).waitFor();

      const saved = await page.request.get(url(`/api/v1/orgs/${ORG}/assistants/${assistantId}`));
      assert.deepEqual(/** @type {{ context: { mcp_servers?: string[] } }} */ (await saved.json()).context.mcp_servers, [MCP_SERVER.name]);
      await page.reload();
      await page.getByRole("list", { name: "MCP servers" }).getByRole("checkbox", { name: MCP_SERVER.name, exact: true }).waitFor();
      assert.ok(await page.getByRole("checkbox", { name: MCP_SERVER.name, exact: true }).isChecked(), "the server is still chosen after a reload");
      await screenshot(page, "mcp-server-chosen");
    },
  },
  {
    name: "usage: an admin sets a member's budget in the web app; the member's next chat is refused with the budget message",
    requires: "agent",
    async run({ page }) {
      await signInAs(page, demoUsers.admin);
      const budgetsUrl = url(`/api/v1/orgs/${ORG}/budgets`);
      await page.goto(url(`/o/${ORG}/usage`));
      const form = page.getByRole("form", { name: "Set a budget" });
      const appliesTo = form.getByLabel("Applies to");
      await appliesTo.locator("option", { hasText: demoUsers.builder }).waitFor({ state: "attached" });
      await appliesTo.selectOption({ label: demoUsers.builder });
      await form.getByLabel("Budget period").selectOption("month");
      await form.getByLabel("Limits", { exact: true }).selectOption("tokens");
      await form.getByLabel("Limit", { exact: true }).fill("0");
      await form.getByRole("button", { name: "Save budget" }).click();
      await form.getByRole("status").filter({ hasText: "Budget saved." }).waitFor();
      const table = page.getByRole("table", { name: "Organisation budgets" });
      await table.getByRole("row").filter({ has: page.getByRole("rowheader", { name: demoUsers.builder, exact: true }) }).filter({ hasText: "Monthly" }).waitFor();
      await screenshot(page, "usage-admin-sets-budget");
      const listed = /** @type {{ id: string, user_email: string, period: string, metric: string, limit: number }[]} */ (await (await page.request.get(budgetsUrl)).json());
      const budget = listed.find((b) => b.user_email === demoUsers.builder && b.period === "month" && b.metric === "tokens");
      assert.ok(budget, `the builder's budget is saved: ${JSON.stringify(listed)}`);
      assert.equal(budget.limit, 0, "the limit typed in the form");
      try {
        await page.context().clearCookies();
        await openNewChat(page, demoUsers.builder);
        await send(page, unique("over budget"));
        const alert = page.getByRole("alert").filter({ hasText: "budget" });
        await alert.waitFor({ timeout: RUN_TIMEOUT_MS });
        assert.match((await alert.textContent()) ?? "", /^The monthly budget of your model usage \(0 tokens\) is spent/);
        // Trying again would be refused again: the chat points to who can raise the budget instead.
        await page.getByText("An admin of the organisation can raise the budget").waitFor();
        assert.equal(await page.getByRole("button", { name: "Try again" }).count(), 0, "no Try again on a spent budget");
        await screenshot(page, "usage-budget-refused-in-chat");

        await page.getByRole("link", { name: "Usage page" }).click();
        const status = page.getByRole("list", { name: "Your budgets" }).getByTestId("budget-status").filter({ hasText: "Your budget" });
        await status.waitFor();
        const shown = (await status.textContent()) ?? "";
        assert.match(shown, /Monthly token budget/);
        assert.match(shown, /Limit 0 tokens · spent [\d,]+ tokens · left 0 tokens/);
        assert.match(shown, /New runs are refused/);
      } finally {
        // The admin deletes it in the web app too: the builder can chat again.
        await signInAs(page, demoUsers.admin);
        await page.goto(url(`/o/${ORG}/usage`));
        await page.getByRole("button", { name: `Delete the monthly tokens budget of ${demoUsers.builder}` }).click();
        await page.getByRole("status").filter({ hasText: "Budget deleted." }).waitFor();
        const left = /** @type {{ id: string }[]} */ (await (await page.request.get(budgetsUrl)).json());
        assert.ok(!left.some((b) => b.id === budget.id), "the test's budget is removed");
      }
    },
  },
  {
    name: "usage: a budget spent during a run pauses the chat with a budget card, and Continue finishes it once an admin raises the budget",
    requires: "agent",
    async run({ page }) {
      await openNewChat(page, demoUsers.builder);
      const builder = /** @type {{ id: number }} */ (await (await page.request.get(url("/api/v1/me"))).json());
      // The admin acts from a browser context of their own, beside the builder's chat.
      const browser = page.context().browser();
      assert.ok(browser, "a browser");
      const adminContext = await browser.newContext();
      const admin = await adminContext.newPage();
      await signInAs(admin, demoUsers.admin);
      const budgetsUrl = url(`/api/v1/orgs/${ORG}/budgets`);
      /** @param {number} limit */
      async function setBudget(limit) {
        const put = await admin.request.put(budgetsUrl, {
          data: { user_id: builder.id, period: "day", metric: "tokens", limit },
          headers: await csrfHeader(admin),
        });
        assert.equal(put.status(), 200, `PUT ${budgetsUrl}: ${await put.text()}`);
        return /** @type {{ id: string }} */ (await put.json());
      }
      // A limit one token above what the builder spent today: the run's first model call spends it.
      const usage = await admin.request.get(url(`/api/v1/orgs/${ORG}/usage?period=day&group_by=user`));
      assert.equal(usage.status(), 200, "GET /usage");
      const groups = /** @type {{ groups: { key: string, total_tokens: number }[] }} */ (await usage.json()).groups;
      const spent = groups.find((group) => group.key === String(builder.id))?.total_tokens ?? 0;
      const budget = await setBudget(spent + 1);
      try {
        const what = unique("a day in Porto");
        await send(page, `Plan ${what}`);
        const card = page.getByTestId("budget-card");
        await card.waitFor({ timeout: RUN_TIMEOUT_MS });
        const shown = (await card.textContent()) ?? "";
        assert.match(shown, /The daily budget of your model usage \([\d]+ tokens\) is spent/);
        assert.match(shown, /can be raised by an org admin/);
        await screenshot(page, "usage-budget-paused-in-chat");

        await setBudget(1_000_000_000);
        await card.getByRole("button", { name: "Continue" }).click();
        await answers(page).filter({ hasText: `Here is the plan for ${what}:` }).first().waitFor({ timeout: RUN_TIMEOUT_MS });
        assert.equal(await page.getByTestId("budget-card").count(), 0, "the budget card is gone");
      } finally {
        const removed = await admin.request.delete(`${budgetsUrl}/${budget.id}`, { headers: await csrfHeader(admin) });
        assert.equal(removed.status(), 204, "the test's budget is removed");
        await adminContext.close();
      }
    },
  },
];
