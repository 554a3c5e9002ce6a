import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Role } from "../../api/types";
import type { Budget, MyUsage, OrgUsage } from "../../api/usage";
import { json, mockFetch } from "../../test/fetch-mock";
import { makeMe, makeMembership } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

const org = "/api/v1/orgs/demo";
const totals = { calls: 3, input_tokens: 1200, output_tokens: 300, cached_input_tokens: 200, total_tokens: 1500, cost: 0.0123 };

const mine: MyUsage = {
  period: "month",
  since: "2026-12-01T00:00:00Z",
  totals,
  by_model: [
    { model: "openai:gpt-4.1", calls: 2, input_tokens: 1000, output_tokens: 250, cached_input_tokens: 200, total_tokens: 1250, cost: 0.0123 },
    { model: "offline", calls: 1, input_tokens: 200, output_tokens: 50, cached_input_tokens: 0, total_tokens: 250, cost: null },
  ],
  by_assistant: [
    { assistant_id: "a1", name: "Research assistant", deleted: false, calls: 1, input_tokens: 700, output_tokens: 150, cached_input_tokens: 200, total_tokens: 850, cost: 0.01 },
    { assistant_id: "a2", name: "", deleted: true, calls: 1, input_tokens: 300, output_tokens: 100, cached_input_tokens: 0, total_tokens: 400, cost: 0.0023 },
    { assistant_id: null, name: "", deleted: false, calls: 1, input_tokens: 200, output_tokens: 50, cached_input_tokens: 0, total_tokens: 250, cost: null },
  ],
  budgets: [
    { id: "b-user", scope: "user", period: "month", metric: "tokens", limit: 10000, spent: 1500, exceeded: false },
    { id: "b-org", scope: "org", period: "day", metric: "cost", limit: 5, spent: null, exceeded: true },
  ],
};

function orgUsage(groupBy: "user" | "assistant"): OrgUsage {
  const groups =
    groupBy === "user"
      ? [
          { key: "2", label: "enduser@demo.local", ...totals },
          { key: "3", label: "builder@demo.local", ...totals, calls: 1, total_tokens: 40000, cost: null },
        ]
      : [{ key: "a1", label: "Research assistant", ...totals }, { key: "", label: "", ...totals, calls: 1 }];
  return { period: "month", since: "2026-12-01T00:00:00Z", group_by: groupBy, totals: { ...totals, calls: 4 }, groups };
}

const orgBudget: Budget = { id: "b-org", user_id: null, user_email: "", period: "day", metric: "cost", limit: 5, created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z" };
const userBudget: Budget = { id: "b-user", user_id: 2, user_email: "enduser@demo.local", period: "month", metric: "tokens", limit: 10000, created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z" };
const member = (id: number, email: string, role: Role) => ({ id: `m-${String(id)}`, user: { id, email, name: "" }, role, created_at: "2026-12-01T00:00:00Z" });

function signedIn(role: Role, routes: Parameters<typeof mockFetch>[0] = {}) {
  return mockFetch({
    "GET /api/v1/me": () => json(makeMe({ id: 2, memberships: [makeMembership("demo", role)] })),
    [`GET ${org}/usage/me?period=month`]: () => json(mine),
    [`GET ${org}/usage?group_by=user&period=month`]: () => json(orgUsage("user")),
    [`GET ${org}/usage?group_by=assistant&period=month`]: () => json(orgUsage("assistant")),
    "GET /api/v1/auth/csrf": () => {
      document.cookie = "csrftoken=test-token; path=/";
      return json({ csrf_token: "test-token" });
    },
    [`GET ${org}/budgets`]: () => json([orgBudget, userBudget]),
    [`GET ${org}/members`]: () => json([member(1, "admin@demo.local", "admin"), member(2, "enduser@demo.local", "end_user"), member(3, "builder@demo.local", "builder")]),
    ...routes,
  });
}

const cells = (table: HTMLElement) => within(table).getAllByRole("row").map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.textContent));

describe("the usage page", () => {
  it("shows a member their own usage by model and the budgets that apply, and nothing of the org's", async () => {
    const { calls } = signedIn("end_user");
    renderApp("/o/demo/usage");

    const totalsList = await screen.findByLabelText("Your totals");
    expect(within(totalsList).getByTestId("usage-input_tokens")).toHaveTextContent("1,200");
    expect(within(totalsList).getByTestId("usage-output_tokens")).toHaveTextContent("300");
    expect(within(totalsList).getByTestId("usage-cached_input_tokens")).toHaveTextContent("200");
    expect(within(totalsList).getByTestId("usage-total_tokens")).toHaveTextContent("1,500");
    expect(within(totalsList).getByTestId("usage-cost")).toHaveTextContent("0.0123");
    expect(cells(screen.getByRole("table", { name: "Your usage by model" }))).toEqual([
      ["Model", "Calls", "Input tokens", "Cached input tokens", "Output tokens", "Total tokens", "Cost"],
      ["openai:gpt-4.1", "2", "1,000", "200", "250", "1,250", "0.0123"],
      ["offline", "1", "200", "0", "50", "250", "—"],
    ]);
    expect(cells(screen.getByRole("table", { name: "Your usage by assistant" }))).toEqual([
      ["Assistant", "Calls", "Input tokens", "Cached input tokens", "Output tokens", "Total tokens", "Cost"],
      ["Research assistant", "1", "700", "200", "150", "850", "0.01"],
      ["(deleted assistant)", "1", "300", "0", "100", "400", "0.0023"],
      ["(no assistant)", "1", "200", "0", "50", "250", "—"],
    ]);

    const [own, orgBudget] = within(screen.getByRole("list", { name: "Your budgets" })).getAllByTestId("budget-status");
    expect(own).toHaveTextContent("Monthly token budget");
    expect(own).toHaveTextContent("Limit 10,000 tokens · spent 1,500 tokens · left 8,500 tokens");
    expect(orgBudget).toHaveTextContent("Daily cost budget");
    expect(orgBudget).toHaveTextContent("Spent");
    expect(orgBudget).toHaveTextContent("The organisation has used this budget up.");
    expect(orgBudget).not.toHaveTextContent("left");

    expect(screen.queryByTestId("org-usage")).not.toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Set a budget" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Delete|Change|Save budget/ })).not.toBeInTheDocument();
    expect(calls.map((call) => call.url).filter((url) => url !== "/api/v1/me")).toEqual([`${org}/usage/me?period=month`]);
  });

  it("is in every member's navigation", async () => {
    signedIn("viewer");
    renderApp("/o/demo");

    expect(await screen.findByRole("link", { name: "Usage" })).toHaveAttribute("href", "/o/demo/usage");
  });

  it("shows an admin the org's usage by member and by assistant, and the org's budgets", async () => {
    signedIn("admin");
    renderApp("/o/demo/usage");

    const orgSection = await screen.findByTestId("org-usage");
    expect(cells(await within(orgSection).findByRole("table", { name: "Organisation usage by user" })).slice(1)).toEqual([
      ["enduser@demo.local", "3", "1,200", "200", "300", "1,500", "0.0123"],
      ["builder@demo.local", "1", "1,200", "200", "300", "40,000", "—"],
    ]);
    expect(within(orgSection).getByLabelText("Organisation totals")).toHaveTextContent("Calls4");
    expect(cells(await within(orgSection).findByRole("table", { name: "Organisation usage by assistant" })).slice(1).map((row) => row[0])).toEqual([
      "Research assistant",
      "(deleted assistant)",
    ]);
    expect(cells(await within(orgSection).findByRole("table", { name: "Organisation budgets" })).slice(1)).toEqual([
      ["Whole organisation", "Daily", "Cost", "5.00", "ChangeDelete"],
      ["enduser@demo.local", "Monthly", "Tokens", "10,000 tokens", "ChangeDelete"],
    ]);
    expect(screen.getByLabelText("Your totals")).toBeInTheDocument();
  });

  it("loads the day's figures when the period changes", async () => {
    const { calls } = signedIn("end_user", {
      [`GET ${org}/usage/me?period=day`]: () =>
        json({ ...mine, period: "day", totals: { ...totals, calls: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, total_tokens: 0, cost: null }, by_model: [], by_assistant: [], budgets: [] }),
    });
    const user = userEvent.setup();
    renderApp("/o/demo/usage");
    await screen.findByLabelText("Your totals");

    await user.selectOptions(screen.getByLabelText("Period"), "day");

    expect(await screen.findByRole("heading", { name: "No model calls today" })).toBeInTheDocument();
    expect(screen.getByText("No budget limits your usage in this organisation.")).toBeInTheDocument();
    expect(calls.map((call) => call.url)).toContain(`${org}/usage/me?period=day`);
  });

  it("says why the usage could not be loaded and loads it again on request", async () => {
    let attempts = 0;
    signedIn("end_user", {
      [`GET ${org}/usage/me?period=month`]: () => (++attempts === 1 ? json({ detail: "Service unavailable.", code: "unavailable" }, 503) : json(mine)),
    });
    const user = userEvent.setup();
    renderApp("/o/demo/usage");

    expect(await screen.findByRole("alert")).toHaveTextContent("Service unavailable.");
    await user.click(screen.getByRole("button", { name: "Try again" }));

    expect(await screen.findByLabelText("Your totals")).toBeInTheDocument();
  });

  describe("an admin managing budgets", () => {
    it("sets a member's daily cost budget and sees it listed", async () => {
      let stored = [orgBudget, userBudget];
      const created: Budget = { ...userBudget, id: "b-new", user_id: 3, user_email: "builder@demo.local", period: "day", metric: "cost", limit: 2.5 };
      const { calls } = signedIn("admin", {
        [`GET ${org}/budgets`]: () => json(stored),
        [`PUT ${org}/budgets`]: () => {
          stored = [...stored, created];
          return json(created);
        },
      });
      const user = userEvent.setup();
      renderApp("/o/demo/usage");
      const form = await screen.findByRole("form", { name: "Set a budget" });
      await within(form).findByRole("option", { name: "builder@demo.local" });

      await user.selectOptions(within(form).getByLabelText("Applies to"), "builder@demo.local");
      await user.selectOptions(within(form).getByLabelText("Budget period"), "day");
      await user.selectOptions(within(form).getByLabelText("Limits"), "cost");
      await user.type(within(form).getByLabelText("Limit"), "2.5");
      await user.click(within(form).getByRole("button", { name: "Save budget" }));

      expect(await within(form).findByRole("status")).toHaveTextContent("Budget saved.");
      expect(calls.find((call) => call.method === "PUT")?.body).toEqual({ user_id: 3, period: "day", metric: "cost", limit: "2.5" });
      const table = await screen.findByRole("table", { name: "Organisation budgets" });
      await within(table).findByRole("rowheader", { name: "builder@demo.local" });
      expect(cells(table).at(-1)).toEqual(["builder@demo.local", "Daily", "Cost", "2.50", "ChangeDelete"]);
      expect(within(form).getByLabelText("Limit")).toHaveValue("");
    });

    it("changes a budget's limit: the form takes the budget, the org's budget goes without a user", async () => {
      const { calls } = signedIn("admin", { [`PUT ${org}/budgets`]: () => json({ ...orgBudget, limit: 7 }) });
      const user = userEvent.setup();
      renderApp("/o/demo/usage");

      await user.click(await screen.findByRole("button", { name: "Change the daily cost budget of Whole organisation" }));
      const form = screen.getByRole("form", { name: "Set a budget" });
      const limit = within(form).getByLabelText("Limit");
      expect(limit).toHaveValue("5");
      expect(limit).toHaveFocus();
      expect(within(form).getByLabelText("Budget period")).toHaveValue("day");
      await user.clear(limit);
      await user.type(limit, "7");
      await user.click(within(form).getByRole("button", { name: "Save budget" }));

      expect(await within(form).findByRole("status")).toHaveTextContent("Budget saved.");
      expect(calls.find((call) => call.method === "PUT")?.body).toEqual({ user_id: null, period: "day", metric: "cost", limit: "7" });
    });

    it("deletes a budget and lists what is left", async () => {
      let stored = [orgBudget, userBudget];
      const { calls } = signedIn("admin", {
        [`GET ${org}/budgets`]: () => json(stored),
        [`DELETE ${org}/budgets/b-user`]: () => {
          stored = [orgBudget];
          return new Response(null, { status: 204 });
        },
      });
      const user = userEvent.setup();
      renderApp("/o/demo/usage");

      await user.click(await screen.findByRole("button", { name: "Delete the monthly tokens budget of enduser@demo.local" }));

      expect(await screen.findByText("Budget deleted.")).toBeInTheDocument();
      await waitFor(() => {
        expect(cells(screen.getByRole("table", { name: "Organisation budgets" })).slice(1).map((row) => row[0])).toEqual(["Whole organisation"]);
      });
      expect(calls.filter((call) => call.method === "DELETE").map((call) => call.url)).toEqual([`${org}/budgets/b-user`]);
    });

    it.each([
      [404, { detail: "No member of this organisation has that user id.", code: "not_found" }],
      [422, { detail: "limit: Input should be greater than or equal to 0", code: "validation_error" }],
    ])("shows the server's %s refusal where the budget was set, and keeps what was typed", async (status, body) => {
      signedIn("admin", { [`PUT ${org}/budgets`]: () => json(body, status) });
      const user = userEvent.setup();
      renderApp("/o/demo/usage");
      const form = await screen.findByRole("form", { name: "Set a budget" });

      await user.type(within(form).getByLabelText("Limit"), "-1");
      await user.click(within(form).getByRole("button", { name: "Save budget" }));

      expect(await within(form).findByRole("alert")).toHaveTextContent(body.detail);
      expect(within(form).getByLabelText("Limit")).toHaveValue("-1");
      expect(within(form).queryByRole("status")).not.toBeInTheDocument();
    });

    it("says a delete was refused, and asks for a limit before sending anything", async () => {
      const { calls } = signedIn("admin", { [`DELETE ${org}/budgets/b-org`]: () => json({ detail: "Budget not found.", code: "not_found" }, 404) });
      const user = userEvent.setup();
      renderApp("/o/demo/usage");

      await user.click(await screen.findByRole("button", { name: "Delete the daily cost budget of Whole organisation" }));
      expect(await screen.findByRole("alert")).toHaveTextContent("Budget not found.");

      await user.click(screen.getByRole("button", { name: "Save budget" }));
      expect(screen.getByRole("alert")).toHaveTextContent("Enter a limit.");
      expect(calls.filter((call) => call.method === "PUT")).toEqual([]);
    });
  });
});
