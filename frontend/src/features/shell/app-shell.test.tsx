import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, mockFetch } from "../../test/fetch-mock";
import { makeAssistant, makeMe, makeMembership } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

const admin = makeMe({ memberships: [makeMembership("demo", "admin"), makeMembership("acme", "viewer", "Acme Corp")] });
const viewer = makeMe({ id: 2, email: "viewer@demo.local", memberships: [makeMembership("demo", "viewer")] });

describe("the app shell", () => {
  it("shows an admin their email, role and the Admin link", async () => {
    mockFetch({ "GET /api/v1/me": () => json(admin), "GET /api/v1/orgs/demo/assistants": () => json([]) });

    renderApp("/o/demo");

    expect(await screen.findByTestId("user-email")).toHaveTextContent("admin@demo.local");
    expect(screen.getByTestId("role-badge")).toHaveTextContent("admin");
    expect(screen.getByRole("link", { name: "Admin" })).toHaveAttribute("href", "/admin/");
    expect(screen.getByLabelText("Organisation")).toHaveValue("demo");
  });

  it("shows a viewer their role and no Admin link", async () => {
    mockFetch({ "GET /api/v1/me": () => json(viewer), "GET /api/v1/orgs/demo/assistants": () => json([]) });

    renderApp("/o/demo");

    expect(await screen.findByTestId("role-badge")).toHaveTextContent("viewer");
    expect(screen.queryByRole("link", { name: "Admin" })).not.toBeInTheDocument();
  });

  it("shows the empty state when the organisation has no assistants", async () => {
    mockFetch({ "GET /api/v1/me": () => json(viewer), "GET /api/v1/orgs/demo/assistants": () => json([]) });

    renderApp("/o/demo");

    expect(await screen.findByRole("heading", { name: "No assistants yet" })).toBeInTheDocument();
  });

  it("switches organisation through the URL, with the role in the new one", async () => {
    mockFetch({
      "GET /api/v1/me": () => json(admin),
      "GET /api/v1/orgs/demo/assistants": () => json([makeAssistant({ name: "Demo helper" })]),
      "GET /api/v1/orgs/acme/assistants": () => json([makeAssistant({ id: "other", name: "Acme helper" })]),
    });
    const user = userEvent.setup();
    const { router } = renderApp("/o/demo");
    expect(await screen.findByRole("heading", { name: "Demo helper" })).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Organisation"), "acme");

    expect(await screen.findByRole("heading", { name: "Acme helper" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/o/acme");
    expect(screen.getByTestId("role-badge")).toHaveTextContent("viewer");
    expect(screen.queryByRole("link", { name: "Admin" })).not.toBeInTheDocument();
  });

  it("lists the organisation's assistants", async () => {
    mockFetch({
      "GET /api/v1/me": () => json(viewer),
      "GET /api/v1/orgs/demo/assistants": () => json([makeAssistant(), makeAssistant({ id: "b", name: "Writer", description: null })]),
    });

    renderApp("/o/demo");

    const list = await screen.findByRole("list", { name: "Assistants" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(2);
    expect(within(list).getByText("Finds and summarises sources.")).toBeInTheDocument();
    expect(within(list).getAllByText("deep_agent")).toHaveLength(2);
  });

  it("offers a retry when the assistants fail to load", async () => {
    let attempts = 0;
    mockFetch({
      "GET /api/v1/me": () => json(viewer),
      "GET /api/v1/orgs/demo/assistants": () =>
        ++attempts === 1 ? json({ detail: "Service unavailable.", code: "unavailable" }, 503) : json([]),
    });
    const user = userEvent.setup();
    renderApp("/o/demo");

    expect(await screen.findByRole("alert")).toHaveTextContent("Service unavailable.");
    await user.click(screen.getByRole("button", { name: "Try again" }));

    expect(await screen.findByRole("heading", { name: "No assistants yet" })).toBeInTheDocument();
  });

  it("treats an organisation the user is not in as not found", async () => {
    mockFetch({ "GET /api/v1/me": () => json(viewer) });

    renderApp("/o/someone-else");

    expect(await screen.findByRole("heading", { name: "Organisation not found" })).toBeInTheDocument();
  });

  it("logs out to the login page", async () => {
    document.cookie = "csrftoken=tok; path=/";
    const { calls } = mockFetch({
      "GET /api/v1/me": () => json(viewer),
      "GET /api/v1/orgs/demo/assistants": () => json([]),
      "POST /api/v1/auth/logout": () => new Response(null, { status: 204 }),
    });
    const user = userEvent.setup();
    const { router } = renderApp("/o/demo");

    await user.click(await screen.findByRole("button", { name: "Log out" }));

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("You have been logged out.");
    expect(router.state.location.pathname).toBe("/login");
    expect(router.state.location.search).toBe("");
    expect(calls.find((call) => call.url === "/api/v1/auth/logout")?.headers["X-CSRFToken"]).toBe("tok");
  });

  it("shows a 404 page for an unknown route", async () => {
    mockFetch({});

    renderApp("/no/such/page");

    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});
