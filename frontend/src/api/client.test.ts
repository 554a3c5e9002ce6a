import { describe, expect, it, vi } from "vitest";
import { json, mockFetch } from "../test/fetch-mock";
import { ApiError, CSRF_HEADER, api, request, send, sessionFetch } from "./client";

describe("request", () => {
  it("sends same-origin credentials and no CSRF header on a GET", async () => {
    const { calls } = mockFetch({ "GET /api/v1/me": () => json({ id: 1 }) });

    await expect(request("/api/v1/me")).resolves.toEqual({ id: 1 });

    expect(calls).toHaveLength(1);
    expect(calls[0]?.init.credentials).toBe("same-origin");
    expect(calls[0]?.headers).toEqual({ Accept: "application/json" });
  });

  it("sends the csrftoken cookie as X-CSRFToken on a POST, with a JSON body", async () => {
    document.cookie = "csrftoken=cookie-token; path=/";
    const { calls } = mockFetch({ "POST /api/v1/auth/login": () => json({ id: 1 }) });

    await api.post("/api/v1/auth/login", { email: "a@b.c", password: "pw" });

    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers[CSRF_HEADER]).toBe("cookie-token");
    expect(calls[0]?.headers["Content-Type"]).toBe("application/json");
    expect(calls[0]?.body).toEqual({ email: "a@b.c", password: "pw" });
    expect(calls[0]?.init.credentials).toBe("same-origin");
  });

  it.each(["PUT", "PATCH", "DELETE"] as const)("sends the CSRF header on %s", async (method) => {
    document.cookie = "csrftoken=cookie-token; path=/";
    const { calls } = mockFetch({ [`${method} /api/v1/thing`]: () => new Response(null, { status: 204 }) });

    await request("/api/v1/thing", { method });

    expect(calls[0]?.headers[CSRF_HEADER]).toBe("cookie-token");
  });

  it("asks the control plane for a CSRF token when there is no cookie yet", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/auth/csrf": () => {
        document.cookie = "csrftoken=issued-cookie; path=/";
        return json({ csrf_token: "issued-body" });
      },
      "POST /api/v1/auth/login": () => json({ id: 1 }),
    });

    await api.post("/api/v1/auth/login", { email: "a@b.c", password: "pw" });

    expect(calls.map((call) => `${call.method} ${call.url}`)).toEqual(["GET /api/v1/auth/csrf", "POST /api/v1/auth/login"]);
    expect(calls[1]?.headers[CSRF_HEADER]).toBe("issued-cookie");
  });

  it("falls back to the token in the CSRF response body when no cookie is readable", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/auth/csrf": () => json({ csrf_token: "issued-body" }),
      "POST /api/v1/auth/logout": () => new Response(null, { status: 204 }),
    });

    await send("/api/v1/auth/logout", { method: "POST" });

    expect(calls[1]?.headers[CSRF_HEADER]).toBe("issued-body");
  });

  it("resolves a 204 to undefined without parsing a body", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch({ "POST /api/v1/auth/logout": () => new Response(null, { status: 204 }) });

    await expect(request("/api/v1/auth/logout", { method: "POST" })).resolves.toBeUndefined();
    await expect(send("/api/v1/auth/logout", { method: "POST" })).resolves.toBeUndefined();
  });

  it("turns the control plane's error shape into an ApiError", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch({
      "POST /api/v1/auth/login": () => json({ detail: "Invalid email or password.", code: "invalid_credentials" }, 400),
    });

    const error = await request("/api/v1/auth/login", { method: "POST", body: {} }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: "invalid_credentials", message: "Invalid email or password." });
  });

  it("keeps the status on a 401", async () => {
    mockFetch({ "GET /api/v1/me": () => json({ detail: "Authentication required.", code: "not_authenticated" }, 401) });

    await expect(api.get("/api/v1/me")).rejects.toMatchObject({
      status: 401,
      code: "not_authenticated",
      message: "Authentication required.",
    });
  });

  it("falls back to the status text when the error body isn't JSON", async () => {
    mockFetch({
      "GET /api/v1/me": () =>
        new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "Content-Type": "text/html" } }),
    });

    await expect(api.get("/api/v1/me")).rejects.toMatchObject({ status: 502, code: "http_error", message: "Bad Gateway" });
  });

  it("falls back to a generic message when there is no status text either", async () => {
    mockFetch({ "GET /api/v1/me": () => new Response("", { status: 500 }) });

    await expect(api.get("/api/v1/me")).rejects.toMatchObject({
      status: 500,
      code: "http_error",
      message: "Request failed with status 500.",
    });
  });

  it("ignores a JSON error body of another shape", async () => {
    mockFetch({ "GET /api/v1/me": () => json({ detail: [{ msg: "bad" }] }, 422) });

    await expect(api.get("/api/v1/me")).rejects.toMatchObject({ status: 422, code: "http_error" });
  });

  it("reports a network failure as status 0, network_error", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));

    await expect(api.get("/api/v1/me")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("rethrows an abort as the caller's AbortError, not an ApiError", async () => {
    mockFetch({ "GET /api/v1/me": () => json({}) });
    const controller = new AbortController();
    controller.abort();

    const error = await api.get("/api/v1/me", controller.signal).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DOMException);
    expect(error).toHaveProperty("name", "AbortError");
  });

  it("rejects a 200 whose body isn't JSON", async () => {
    mockFetch({ "GET /api/v1/me": () => new Response("<html></html>", { status: 200 }) });

    await expect(api.get("/api/v1/me")).rejects.toMatchObject({ status: 200, code: "invalid_response" });
  });
});

describe("sessionFetch", () => {
  it("adds same-origin credentials and, on unsafe methods only, the CSRF header", async () => {
    document.cookie = "csrftoken=cookie-token; path=/";
    const fetchMock = vi.fn<(input: RequestInfo | URL, init?: RequestInit) => Promise<Response>>(() => Promise.resolve(new Response("{}")));
    vi.stubGlobal("fetch", fetchMock);

    await sessionFetch("https://app.test/agent/threads/t/commands", { method: "POST", headers: { "X-Atrium-Org": "demo" }, body: "{}" });
    await sessionFetch("https://app.test/agent/threads/t/state");

    const [post, get] = fetchMock.mock.calls.map((call) => call[1]);
    expect(post?.credentials).toBe("same-origin");
    expect(new Headers(post?.headers).get(CSRF_HEADER)).toBe("cookie-token");
    expect(new Headers(post?.headers).get("X-Atrium-Org")).toBe("demo");
    expect(post?.body).toBe("{}");
    expect(get?.credentials).toBe("same-origin");
    expect(new Headers(get?.headers).has(CSRF_HEADER)).toBe(false);
  });
});
