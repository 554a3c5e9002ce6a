import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Role } from "../../api/types";
import { json } from "../../test/fetch-mock";
import { mockAgentFetch } from "../../test/fake-agent/fetch";
import { createFakeAgent, FAKE_ASSISTANTS } from "../../test/fake-agent/server";
import { makeMe, makeMembership } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

function signedIn(
  role: Role,
  options: { offline?: boolean; refuseRunStart?: string; refuseRunStartReason?: string; budgetSpent?: boolean } = {},
) {
  const me = makeMe({ id: 2, email: `${role}@demo.local`, memberships: [makeMembership("demo", role)] });
  const agent = createFakeAgent({
    orgId: me.memberships[0]?.org.id ?? "",
    offline: options.offline ?? true,
    ...(options.refuseRunStart ? { refuseRunStart: options.refuseRunStart } : {}),
    ...(options.refuseRunStartReason ? { refuseRunStartReason: options.refuseRunStartReason } : {}),
  });
  const budget = { id: "b1", scope: "user", period: "month", metric: "tokens", limit: 1000, spent: 1200, exceeded: options.budgetSpent ?? false };
  const usage = { period: "day", since: "2026-12-07T00:00:00Z", totals: {}, by_model: [], by_assistant: [], budgets: [budget] };
  const mock = mockAgentFetch(agent, { id: "2", email: me.email }, {
    "GET /api/v1/me": () => json(me),
    "GET /api/v1/orgs/demo/usage/me": () => json(usage),
  });
  return { agent, ...mock };
}

async function sendMessage(user: ReturnType<typeof userEvent.setup>, text: string) {
  await user.type(await screen.findByRole("textbox", { name: "Message" }), `${text}{Enter}`);
}

const BUDGET_SPENT =
  "The monthly budget of your model usage (1000 tokens) is spent (1200 used this month, UTC). Runs can start again when the month ends or an org admin raises the budget.";

describe("the chat", () => {
  it("shows plainly that a run was refused because a budget is spent", async () => {
    signedIn("end_user", { refuseRunStart: BUDGET_SPENT });
    const user = userEvent.setup();
    renderApp("/o/demo/chat");

    await sendMessage(user, "hello there");

    expect(await screen.findByRole("alert")).toHaveTextContent(BUDGET_SPENT);
    expect(screen.getAllByRole("alert")).toHaveLength(1);
    expect(screen.queryByText(/You said: hello there/)).not.toBeInTheDocument();
    // trying again would be refused again: the chat says who can lift the budget, and where
    expect(screen.queryByRole("button", { name: "Try again" })).not.toBeInTheDocument();
    expect(screen.getByText(/An admin of the organisation can raise the budget/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Usage page" })).toHaveAttribute("href", "/o/demo/usage");
  });

  it("offers to try again after a refusal that is not a budget's", async () => {
    signedIn("end_user", { refuseRunStart: "Rate limit exceeded. Retry after 3 s.", refuseRunStartReason: "rate_limited" });
    const user = userEvent.setup();
    renderApp("/o/demo/chat");

    await sendMessage(user, "hello there");

    expect(await screen.findByRole("alert")).toHaveTextContent("Rate limit exceeded. Retry after 3 s.");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Usage page" })).not.toBeInTheDocument();
  });

  it("shows plainly that a run ended because a budget was spent during it", async () => {
    signedIn("end_user", { budgetSpent: true });
    const user = userEvent.setup();
    renderApp("/o/demo/chat");

    await sendMessage(user, `fail: ${BUDGET_SPENT}`);

    expect(await screen.findByRole("alert")).toHaveTextContent(BUDGET_SPENT);
    expect(screen.getAllByRole("alert")).toHaveLength(1);
    // the failure carries only its message: the member's budgets say it is one, so no Try again
    expect(await screen.findByRole("link", { name: "Usage page" })).toHaveAttribute("href", "/o/demo/usage");
    expect(screen.queryByRole("button", { name: "Try again" })).not.toBeInTheDocument();
  });

  it("offers to try again after a run that failed while no budget is spent", async () => {
    const { fetchMock } = signedIn("end_user", { budgetSpent: false });
    const user = userEvent.setup();
    renderApp("/o/demo/chat");

    await sendMessage(user, "fail: the tool timed out");

    expect(await screen.findByRole("alert")).toHaveTextContent("the tool timed out");
    await waitFor(() => {
      expect(fetchMock.mock.calls.some(([input]) => typeof input === "string" && input.includes("/usage/me"))).toBe(true);
    });
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Usage page" })).not.toBeInTheDocument();
  });

  it("starts a conversation, streams the answer and moves to the conversation's address", async () => {
    signedIn("end_user");
    const user = userEvent.setup();
    const { router } = renderApp("/o/demo/chat");

    expect(await screen.findByRole("heading", { name: "Chat with Deep agent" })).toBeInTheDocument();
    expect(screen.getByTestId("offline-model")).toHaveTextContent("Offline demo model");
    await sendMessage(user, "hello there");

    expect(await screen.findByText("You said: hello there")).toBeInTheDocument();
    await waitFor(() => {
      expect(router.state.location.pathname).toMatch(/^\/o\/demo\/t\/[0-9a-f-]{36}$/);
    });
    const list = await screen.findByRole("list", { name: "Your conversations" });
    expect(await within(list).findByRole("link", { name: /hello there/ })).toHaveAttribute("aria-current", "page");
  });

  it("suggests first prompts in an empty chat, and shows the plan one of them makes", async () => {
    signedIn("end_user");
    const user = userEvent.setup();
    renderApp("/o/demo/chat");

    const suggestions = await screen.findByRole("list", { name: "Suggested prompts" });
    expect(within(suggestions).getAllByRole("button").map((button) => button.textContent)).toEqual([
      "Make a planPlan a weekend in Lisbon",
      "Remember a preferenceRemember that I prefer short answers",
      "Ask a subagentResearch the history of tea",
      "Approve a file editDraft a welcome note in /welcome.md",
    ]);
    await user.click(within(suggestions).getByRole("button", { name: /Make a plan/ }));

    expect(await screen.findByText("Here is the plan for a weekend in Lisbon.")).toBeInTheDocument();
    const planList = screen.getByRole("list", { name: "Plan" });
    expect(within(planList).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "✓Gather what a weekend in Lisbon needs (done)",
      "◐Outline a weekend in Lisbon step by step (in progress)",
      "○Check the plan and summarise it (to do)",
    ]);
    expect(screen.queryByRole("list", { name: "Suggested prompts" })).not.toBeInTheDocument();
  });

  it("suggests no prompts to a viewer", async () => {
    signedIn("viewer");
    renderApp("/o/demo/chat");

    expect(await screen.findByTestId("read-only-note")).toBeInTheDocument();
    expect(screen.queryByRole("list", { name: "Suggested prompts" })).not.toBeInTheDocument();
  });

  it("offers the organisation's assistants for a new chat and labels a real model as such", async () => {
    signedIn("end_user", { offline: false });
    const user = userEvent.setup();
    renderApp("/o/demo/chat");

    const picker = await screen.findByRole("combobox", { name: "Assistant" });
    await user.selectOptions(picker, FAKE_ASSISTANTS[1]?.assistant_id ?? "");

    expect(await screen.findByRole("heading", { name: "Chat with Echo" })).toBeInTheDocument();
    expect(screen.queryByTestId("offline-model")).not.toBeInTheDocument();
  });

  it("gives a viewer a read-only chat that says why", async () => {
    signedIn("viewer");
    renderApp("/o/demo/chat");

    expect(await screen.findByTestId("read-only-note")).toHaveTextContent("view-only access");
    expect(screen.queryByRole("textbox", { name: "Message" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "New chat" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Assistant settings" })).not.toBeInTheDocument();
  });

  it.each<[Role, boolean]>([
    ["end_user", false],
    ["builder", true],
  ])("links a %s from the chat to the assistant's settings: %s", async (role, shown) => {
    signedIn(role);
    renderApp("/o/demo/chat");

    expect(await screen.findByRole("textbox", { name: "Message" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "New chat" })).toBeInTheDocument();
    const link = screen.queryByRole("link", { name: "Assistant settings" });
    expect(link !== null).toBe(shown);
    if (link) expect(link.getAttribute("href")).toMatch(/^\/o\/demo\/assistants\/.+\/settings$/);
  });

  it("shows a 404 for a conversation that is not the user's", async () => {
    signedIn("end_user");
    renderApp("/o/demo/t/01a21043-8379-765b-987c-8d8dfd87c4aa");

    expect(await screen.findByRole("heading", { name: "Conversation not found" })).toBeInTheDocument();
  });

  it("asks for approval and continues once approved", async () => {
    signedIn("end_user");
    const user = userEvent.setup();
    renderApp("/o/demo/chat");

    await sendMessage(user, "write buy milk");
    const request = await screen.findByTestId("interrupt");
    expect(within(request).getByText("Tool execution requires approval")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
    await user.click(within(request).getByRole("button", { name: "Approve" }));

    expect(await screen.findByText("Done: the note is saved.")).toBeInTheDocument();
    await waitFor(() => {
      expect(screen.queryByTestId("interrupt")).not.toBeInTheDocument();
    });
  });

  it("edits a message into a second version and switches back to the first", async () => {
    signedIn("end_user");
    const user = userEvent.setup();
    renderApp("/o/demo/chat");
    await sendMessage(user, "first");
    await screen.findByText("You said: first");

    await user.click(await screen.findByRole("button", { name: "Edit this message" }));
    const box = screen.getByRole("textbox", { name: "Edit your message" });
    await user.clear(box);
    await user.type(box, "second");
    await user.click(screen.getByRole("button", { name: "Save and send" }));

    expect(await screen.findByText("You said: second")).toBeInTheDocument();
    expect(await screen.findByTestId("branch-position")).toHaveTextContent("2 / 2");
    await user.click(screen.getByRole("button", { name: "Previous version" }));
    expect(await screen.findByText("You said: first")).toBeInTheDocument();
    expect(screen.getByTestId("branch-position")).toHaveTextContent("1 / 2");
    expect(screen.getByText(/You are looking at an earlier version/)).toBeInTheDocument();
  });

  it("renames and deletes a conversation from the list", async () => {
    const { agent } = signedIn("end_user");
    const user = userEvent.setup();
    const { router } = renderApp("/o/demo/chat");
    await sendMessage(user, "to be renamed");
    await screen.findByText("You said: to be renamed");
    const list = await screen.findByRole("list", { name: "Your conversations" });

    await user.click(await within(list).findByRole("button", { name: "Rename to be renamed" }));
    await user.clear(screen.getByRole("textbox", { name: "New title" }));
    await user.type(screen.getByRole("textbox", { name: "New title" }), "Shopping{Enter}");
    expect(await within(list).findByRole("link", { name: /Shopping/ })).toBeInTheDocument();
    expect([...agent.threads.values()][0]?.metadata.title).toBe("Shopping");

    await user.click(within(list).getByRole("button", { name: "Delete Shopping" }));
    await user.click(within(list).getByRole("button", { name: "Delete" }));

    expect(await screen.findByText("No conversations yet.")).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/o/demo/chat");
    expect(agent.threads.size).toBe(0);
  });

  it("filters the list by title", async () => {
    signedIn("end_user");
    const user = userEvent.setup();
    renderApp("/o/demo/chat");
    await sendMessage(user, "alpha plans");
    await screen.findByText("You said: alpha plans");
    const list = await screen.findByRole("list", { name: "Your conversations" });
    await within(list).findByRole("link", { name: /alpha plans/ });

    await user.type(screen.getByRole("searchbox", { name: "Search conversations" }), "beta");

    expect(await screen.findByText("No conversation matches.")).toBeInTheDocument();
  });
});
