import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Role } from "../../api/types";
import { json, mockFetch } from "../../test/fetch-mock";
import { makeAssistant, makeAssistantDetail, makeMe, makeMembership } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

const assistant = makeAssistantDetail({
  context: { model: "offline", system_prompt: "Be brief.", sandbox: "thread", model_max_retries: 4, sandbox_egress: [{ host: "api.example.com" }] },
});
const base = "/api/v1/orgs/demo/assistants/a1b2c3d4-0000-4000-8000-000000000001";
const settingsUrl = "/o/demo/assistants/a1b2c3d4-0000-4000-8000-000000000001/settings";

const server = { command: [], scopes: [], created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };
const mcpServers = [
  { ...server, id: "m-1", name: "wiki", transport: "streamable_http", url: "https://mcp.example.com/wiki", oauth_provider: null, enabled: true },
  { ...server, id: "m-2", name: "tickets", transport: "sse", url: "https://tickets.example.com/sse", oauth_provider: "github", scopes: ["repo"], enabled: true },
  { ...server, id: "m-3", name: "legacy", transport: "streamable_http", url: "https://old.example.com/mcp", oauth_provider: null, enabled: false },
];

function signedIn(role: Role, routes: Parameters<typeof mockFetch>[0] = {}) {
  document.cookie = "csrftoken=tok; path=/";
  return mockFetch({
    "GET /api/v1/me": () => json(makeMe({ memberships: [makeMembership("demo", role)] })),
    "GET /api/v1/orgs/demo/assistants": () => json([makeAssistant()]),
    [`GET ${base}`]: () => json(assistant),
    "GET /api/v1/orgs/demo/policy": () => json({ egress_hosts: ["api.example.com", "pypi.org"] }),
    [`GET ${base}/grants`]: () => json({ secrets: ["SEARCH_KEY"], audience: "everyone" }),
    [`GET ${base}/skills`]: () => json([]),
    "GET /api/v1/orgs/demo/mcp-servers": () => json(mcpServers),
    "GET /api/v1/orgs/demo/secrets": () =>
      json([
        { name: "SEARCH_KEY", description: "", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" },
        { name: "GITHUB_TOKEN", description: "", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" },
      ]),
    ...routes,
  });
}

describe("the assistant settings page", () => {
  it.each<Role>(["end_user", "viewer"])("tells a %s it is not allowed, without loading the assistant", async (role) => {
    const { calls } = signedIn(role);

    renderApp(settingsUrl);

    expect(await screen.findByRole("heading", { name: "Not allowed" })).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Assistant settings" })).not.toBeInTheDocument();
    expect(calls.map((call) => call.url)).not.toContain(base);
  });

  it.each<[Role, boolean]>([
    ["end_user", false],
    ["viewer", false],
    ["builder", true],
    ["admin", true],
  ])("links a %s to an assistant's settings: %s", async (role, shown) => {
    signedIn(role);

    renderApp("/o/demo");

    expect(await screen.findByRole("heading", { name: "Research assistant" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Settings of Research assistant" }) !== null).toBe(shown);
    expect(screen.queryByRole("link", { name: "Chat with Research assistant" }) !== null).toBe(role !== "viewer");
  });

  it("shows a builder the settings, the approved hosts and read-only grants", async () => {
    const { calls } = signedIn("builder");

    renderApp(settingsUrl);

    expect(await screen.findByLabelText("System prompt")).toHaveValue("Be brief.");
    expect(screen.getByLabelText("Sandbox mode")).toHaveValue("thread");
    expect(within(screen.getByRole("list", { name: "Approved hosts" })).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "api.example.com",
      "pypi.org",
    ]);
    const grants = await screen.findByTestId("grants-section");
    expect(await within(grants).findByRole("checkbox", { name: "SEARCH_KEY" })).toBeDisabled();
    expect(within(grants).getByText("Only an admin can change what this assistant is granted.")).toBeInTheDocument();
    expect(within(grants).queryByRole("button", { name: "Save grants" })).not.toBeInTheDocument();
    expect(calls.map((call) => call.url)).not.toContain("/api/v1/orgs/demo/secrets");
  });

  it("saves a new system prompt as a new version, keeping the settings it does not edit", async () => {
    const { calls } = signedIn("builder", {
      [`PATCH ${base}`]: ({ body }) => json({ ...assistant, ...(body as object), version: 4 }),
    });
    const user = userEvent.setup();
    renderApp(settingsUrl);
    const prompt = await screen.findByLabelText("System prompt");

    await user.clear(prompt);
    await user.type(prompt, "Answer in French.");
    await user.click(screen.getByRole("button", { name: "Save settings" }));

    expect(await screen.findByText("Saved as version 4.")).toBeInTheDocument();
    const patch = calls.find((call) => call.method === "PATCH");
    expect(patch?.body).toEqual({
      name: "Research assistant",
      description: "Finds and summarises sources.",
      context: {
        model: "offline",
        system_prompt: "Answer in French.",
        sandbox: "thread",
        model_max_retries: 4,
        model_call_limit_per_run: 25,
        model_call_limit_per_thread: null,
        tool_call_limit_per_run: 50,
        tool_call_limit_per_thread: null,
        pii_rules: [],
        interrupt_on: [],
        sandbox_egress: [{ host: "api.example.com" }],
        connected_apis: [],
        mcp_servers: [],
      },
    });
    expect(screen.getByLabelText("System prompt")).toHaveValue("Answer in French.");
  });

  it("shows the server's refusal next to the form and keeps what was typed", async () => {
    signedIn("builder", {
      [`PATCH ${base}`]: () =>
        json({ detail: "sandbox_egress host evil.example is not approved by an admin", code: "policy_violation" }, 422),
    });
    const user = userEvent.setup();
    renderApp(settingsUrl);
    const host = await screen.findByLabelText("Host");

    await user.clear(host);
    await user.type(host, "evil.example");
    expect(screen.getByTestId("hosts-outside-policy")).toHaveTextContent("evil.example");
    await user.click(screen.getByRole("button", { name: "Save settings" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("sandbox_egress host evil.example is not approved by an admin");
    expect(screen.getByLabelText("Host")).toHaveValue("evil.example");
    expect(screen.getByRole("button", { name: "Save settings" })).toBeEnabled();
  });

  it("lets an admin grant a workspace secret and choose the audience", async () => {
    const { calls } = signedIn("admin", {
      [`PUT ${base}/grants`]: ({ body }) => json(body),
    });
    const user = userEvent.setup();
    renderApp(settingsUrl);
    const grants = await screen.findByTestId("grants-section");

    await user.click(await within(grants).findByRole("checkbox", { name: "GITHUB_TOKEN" }));
    await user.click(within(grants).getByRole("radio", { name: "Only builders and admins" }));
    await user.click(within(grants).getByRole("button", { name: "Save grants" }));

    expect(await within(grants).findByText("Grants saved.")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "PUT")?.body).toEqual({ secrets: ["SEARCH_KEY", "GITHUB_TOKEN"], audience: "team" });
  });

  it("lets a builder add a skill of this assistant only", async () => {
    const skillMd = "---\nname: triage\ndescription: Sorts tickets.\n---\n\nAnswer with the phrase sorted.\n";
    const skill = { id: "s-1", name: "triage", description: "Sorts tickets.", assistant_id: assistant.id, files: { "SKILL.md": skillMd } };
    let skills: unknown[] = [];
    const { calls } = signedIn("builder", {
      [`GET ${base}/skills`]: () => json(skills),
      [`POST ${base}/skills`]: () => {
        skills = [{ ...skill, created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z" }];
        return json(skills[0], 201);
      },
    });
    const user = userEvent.setup();
    renderApp(settingsUrl);

    const section = await screen.findByRole("region", { name: "Skills of this assistant" });
    await user.click(await within(section).findByRole("button", { name: "New assistant skill" }));
    const text = within(section).getByLabelText("SKILL.md");
    await user.clear(text);
    await user.type(text, skillMd);
    await user.click(within(section).getByRole("button", { name: "Create skill" }));

    expect(await within(section).findByText("triage")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({ files: { "SKILL.md": skillMd } });
  });

  it("still offers the settings when the policy cannot be loaded, and says why", async () => {
    signedIn("builder", { "GET /api/v1/orgs/demo/policy": () => json({ detail: "Not found.", code: "not_found" }, 404) });

    renderApp(settingsUrl);

    expect(await screen.findByText(/The organisation's policy could not be loaded: Not found\./)).toBeInTheDocument();
    expect(screen.getByLabelText("System prompt")).toHaveValue("Be brief.");
  });

  it("lets a builder give the assistant an MCP server, showing how each is reached and which are disabled", async () => {
    const { calls } = signedIn("builder", {
      [`PATCH ${base}`]: ({ body }) => json({ ...assistant, ...(body as object), version: 4 }),
    });
    const user = userEvent.setup();
    renderApp(settingsUrl);

    const list = await screen.findByRole("list", { name: "MCP servers" });
    const [wiki, tickets, legacy] = within(list).getAllByTestId("mcp-server");
    expect(wiki).toHaveTextContent("streamable_http https://mcp.example.com/wiki · no sign-in");
    expect(tickets).toHaveTextContent("OAuth");
    expect(tickets).toHaveTextContent("each user signs in with github");
    expect(legacy).toHaveTextContent("Disabled by an admin");
    expect(within(list).getByRole("checkbox", { name: "legacy" })).toBeDisabled();
    expect(within(list).getByRole("checkbox", { name: "wiki" })).not.toBeChecked();

    await user.click(within(list).getByRole("checkbox", { name: "tickets" }));
    await user.click(within(list).getByRole("checkbox", { name: "wiki" }));
    await user.click(screen.getByRole("button", { name: "Save settings" }));

    expect(await screen.findByText("Saved as version 4.")).toBeInTheDocument();
    const patch = calls.find((call) => call.method === "PATCH")?.body as { context: Record<string, unknown> };
    expect(patch.context.mcp_servers).toEqual(["tickets", "wiki"]);
    expect(screen.getByRole("checkbox", { name: "tickets" })).toBeChecked();
  });

  it("warns before saving a server the org no longer offers, lets it be unticked, and shows the server's refusal", async () => {
    const withServers = { ...assistant, context: { ...assistant.context, mcp_servers: ["legacy", "gone"] } };
    const { calls } = signedIn("builder", {
      [`GET ${base}`]: () => json(withServers),
      [`PATCH ${base}`]: () => json({ detail: "mcp_servers: 'legacy' is not an MCP server an admin registered for this org", code: "policy_violation" }, 422),
    });
    const user = userEvent.setup();
    renderApp(settingsUrl);

    const list = await screen.findByRole("list", { name: "MCP servers" });
    expect(screen.getByTestId("mcp-servers-outside-policy")).toHaveTextContent("legacy (disabled), gone (not registered)");
    expect(within(list).getByRole("checkbox", { name: "legacy" })).toBeChecked();
    expect(within(list).getByRole("checkbox", { name: "legacy" })).toBeEnabled();

    await user.click(screen.getByRole("button", { name: "Save settings" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("mcp_servers: 'legacy' is not an MCP server an admin registered for this org");

    await user.click(within(list).getByRole("checkbox", { name: "gone" }));
    await user.click(within(list).getByRole("checkbox", { name: "legacy" }));
    expect(screen.queryByTestId("mcp-servers-outside-policy")).not.toBeInTheDocument();
    expect(within(list).getByRole("checkbox", { name: "legacy" })).toBeDisabled();
    expect(within(list).queryByRole("checkbox", { name: "gone" })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    const patches = calls.filter((call) => call.method === "PATCH").map((call) => (call.body as { context: Record<string, unknown> }).context.mcp_servers);
    expect(patches).toEqual([["legacy", "gone"], []]);
  });

  it("still offers the settings when the MCP servers cannot be loaded, and says why", async () => {
    signedIn("builder", { "GET /api/v1/orgs/demo/mcp-servers": () => json({ detail: "Service unavailable.", code: "unavailable" }, 503) });

    renderApp(settingsUrl);

    expect(await screen.findByText(/The organisation's MCP servers could not be loaded: Service unavailable\./)).toBeInTheDocument();
    expect(screen.getByLabelText("System prompt")).toHaveValue("Be brief.");
  });
});
