import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, mockFetch } from "../../test/fetch-mock";
import { makeMe } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

const notAuthenticated = () => json({ detail: "Authentication required.", code: "not_authenticated" }, 401);

describe("signing in", () => {
  it("sends an anonymous visitor to the login page, remembering where they were going", async () => {
    mockFetch({ "GET /api/v1/me": notAuthenticated });

    const { router } = renderApp("/o/demo");

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/login");
    expect(router.state.location.search).toBe("?next=%2Fo%2Fdemo");
  });

  it("shows the server's message for a wrong password and keeps the email", async () => {
    document.cookie = "csrftoken=tok; path=/";
    const { calls } = mockFetch({
      "GET /api/v1/me": notAuthenticated,
      "POST /api/v1/auth/login": () => json({ detail: "Invalid email or password.", code: "invalid_credentials" }, 400),
    });
    const user = userEvent.setup();
    renderApp("/login");

    await user.type(await screen.findByLabelText("Email"), "admin@demo.local");
    await user.type(screen.getByLabelText("Password"), "wrong");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("Invalid email or password.");
    expect(screen.getByLabelText("Email")).toHaveValue("admin@demo.local");
    expect(screen.getByLabelText("Password")).toHaveValue("");
    const login = calls.find((call) => call.url === "/api/v1/auth/login");
    expect(login?.body).toEqual({ email: "admin@demo.local", password: "wrong" });
    expect(login?.headers["X-CSRFToken"]).toBe("tok");
  });

  it("opens the first organisation after a successful sign-in", async () => {
    document.cookie = "csrftoken=tok; path=/";
    mockFetch({
      "GET /api/v1/me": notAuthenticated,
      "POST /api/v1/auth/login": () => json(makeMe()),
      "GET /api/v1/orgs/demo/assistants": () => json([]),
    });
    const user = userEvent.setup();
    const { router } = renderApp("/login");

    await user.type(await screen.findByLabelText("Email"), "admin@demo.local");
    await user.type(screen.getByLabelText("Password"), "atrium-demo");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { name: "Assistants" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/o/demo");
    expect(screen.getByTestId("user-email")).toHaveTextContent("admin@demo.local");
  });

  it("returns to the page in ?next after signing in", async () => {
    document.cookie = "csrftoken=tok; path=/";
    mockFetch({
      "GET /api/v1/me": notAuthenticated,
      "POST /api/v1/auth/login": () => json(makeMe()),
      "GET /api/v1/orgs/demo/assistants": () => json([]),
    });
    const user = userEvent.setup();
    const { router } = renderApp("/login?next=%2Fo%2Fdemo");

    await user.type(await screen.findByLabelText("Email"), "admin@demo.local");
    await user.type(screen.getByLabelText("Password"), "atrium-demo");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    await waitFor(() => {
      expect(router.state.location.pathname).toBe("/o/demo");
    });
  });
});

describe("single sign-on", () => {
  it("offers each configured provider, carrying where the visitor was going", async () => {
    mockFetch({
      "GET /api/v1/me": notAuthenticated,
      "GET /api/v1/auth/oidc/providers": () =>
        json([{ slug: "corp", name: "Corp SSO", login_url: "/api/v1/auth/oidc/corp/login" }]),
    });
    renderApp("/login?next=%2Fo%2Fdemo");

    const link = await screen.findByRole("link", { name: "Sign in with Corp SSO" });
    expect(link).toHaveAttribute("href", "/api/v1/auth/oidc/corp/login?next=%2Fo%2Fdemo");
  });

  it("shows why a single sign-on attempt was refused", async () => {
    mockFetch({
      "GET /api/v1/me": notAuthenticated,
      "GET /api/v1/auth/oidc/providers": () => json([]),
    });
    renderApp("/login?sso_error=No%20Atrium%20account%20matches%20this%20sign-in.");

    expect(await screen.findByRole("alert")).toHaveTextContent("No Atrium account matches this sign-in.");
  });

  it("shows no provider section when none is configured", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/me": notAuthenticated,
      "GET /api/v1/auth/oidc/providers": () => json([]),
    });
    renderApp("/login");

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    await waitFor(() => {
      expect(calls.some((call) => call.url === "/api/v1/auth/oidc/providers")).toBe(true);
    });
    expect(screen.queryByRole("link", { name: /Sign in with/ })).not.toBeInTheDocument();
  });
});
