import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Role } from "../../api/types";
import { json } from "../../test/fetch-mock";
import { mockAgentFetch } from "../../test/fake-agent/fetch";
import { createFakeAgent } from "../../test/fake-agent/server";
import { makeMe, makeMembership } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

function setup(role: Role) {
  const me = makeMe({ id: 2, email: `${role}@demo.local`, memberships: [makeMembership("demo", role)] });
  const orgId = me.memberships[0]?.org.id ?? "";
  const agent = createFakeAgent({ orgId });
  agent.putItem(["org", orgId, "user", "2", "memories"], "/notes.md", { content: ["- likes green tea", "- lives in Oslo"] });
  agent.putItem(["user", "2", "memories"], "/todo.md", { content: "- call Ada" });
  agent.putItem(["org", orgId, "user", "3", "memories"], "/secret.md", { content: "not yours" });
  const mock = mockAgentFetch(agent, { id: "2", email: me.email }, { "GET /api/v1/me": () => json(me) });
  return { agent, ...mock };
}

describe("the memory page", () => {
  it("lists the user's files from both namespace layouts and shows one's content", async () => {
    const { calls } = setup("end_user");
    const user = userEvent.setup();
    renderApp("/o/demo/memory");

    const list = await screen.findByRole("list", { name: "Memory files" });
    expect(within(list).getAllByTestId("memory-file").map((item) => item.querySelector("code")?.textContent)).toEqual([
      "/memories/notes.md",
      "/memories/todo.md",
    ]);
    await user.click(within(list).getByRole("button", { name: "/memories/notes.md" }));

    expect(await screen.findByText(/likes green tea\s+- lives in Oslo/)).toBeInTheDocument();
    const searches = calls.filter((call) => call.path === "/store/items/search").map((call) => (call.body as { namespace_prefix: string[] }).namespace_prefix);
    expect(searches).toContainEqual(["user", "2", "memories"]);
    expect(searches.some((prefix) => prefix[0] === "org" && prefix[3] === "2")).toBe(true);
  });

  it("deletes a file after asking", async () => {
    const { agent, calls } = setup("end_user");
    const user = userEvent.setup();
    renderApp("/o/demo/memory");

    await user.click(await screen.findByRole("button", { name: "Delete /memories/todo.md" }));
    await user.click(screen.getByRole("button", { name: "Delete" }));

    await waitFor(() => {
      expect(screen.queryByRole("button", { name: "/memories/todo.md" })).not.toBeInTheDocument();
    });
    expect(calls.find((call) => call.method === "DELETE")?.body).toEqual({ namespace: ["user", "2", "memories"], key: "/todo.md" });
    expect([...agent.store.values()].map((item) => item.key)).not.toContain("/todo.md");
  });

  it("lets a viewer read but not delete", async () => {
    setup("viewer");
    renderApp("/o/demo/memory");

    expect(await screen.findByRole("button", { name: "/memories/notes.md" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Delete/ })).not.toBeInTheDocument();
  });
});
