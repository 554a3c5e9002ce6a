import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Connection } from "../../api/connections";
import { json, mockFetch } from "../../test/fetch-mock";
import { makeMe, makeMembership } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

const github: Connection = {
  id: "c-1",
  provider_id: "p-1",
  provider_slug: "github",
  provider_name: "GitHub",
  user_email: "viewer@demo.local",
  scopes: ["read:user", "repo"],
  status: "active",
  expires_at: null,
  refreshed_at: null,
  created_at: "2026-11-20T10:00:00Z",
};

function setup() {
  const me = makeMe({ id: 2, email: "viewer@demo.local", memberships: [makeMembership("demo", "viewer")] });
  let connections = [github];
  return mockFetch({
    "GET /api/v1/me": () => json(me),
    "GET /api/v1/auth/csrf": () => {
      document.cookie = "csrftoken=test-token; path=/";
      return json({ csrf_token: "test-token" });
    },
    "GET /api/v1/orgs/demo/me/connections": () => json(connections),
    "DELETE /api/v1/orgs/demo/me/connections/c-1": () => {
      connections = [];
      return new Response(null, { status: 204 });
    },
  });
}

describe("the connections page", () => {
  it("lists the user's connections and revokes one after asking (viewers too)", async () => {
    const { calls } = setup();
    const user = userEvent.setup();
    renderApp("/o/demo/connections?connected=github");

    expect(await screen.findByText("Connected github.")).toBeInTheDocument();
    const list = await screen.findByRole("list", { name: "Your connections" });
    expect(within(list).getByText("GitHub")).toBeInTheDocument();
    expect(within(list).getByText(/Connected · read:user, repo/)).toBeInTheDocument();

    await user.click(within(list).getByRole("button", { name: "Revoke GitHub" }));
    await user.click(within(screen.getByRole("group", { name: "Revoke GitHub?" })).getByRole("button", { name: "Revoke" }));

    await waitFor(() => {
      expect(screen.getByText("No connections")).toBeInTheDocument();
    });
    expect(calls.filter((call) => call.method === "DELETE").map((call) => call.url)).toEqual([
      "/api/v1/orgs/demo/me/connections/c-1",
    ]);
  });
});
