import { vi } from "vitest";
import type { FakeAgent, FakeUser } from "./server";

export interface AgentCall {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

type Route = () => Response | Promise<Response>;

/**
 * Routes `fetch` for `/agent/*` (absolute, as the SDK sends it, or relative) to the fake Agent
 * Server, signed in as `user`; `/api/v1/auth/csrf` answers too, for the CSRF token, and `routes`
 * ("METHOD /path") answer the rest. Anything else fails the test loudly.
 */
export function mockAgentFetch(agent: FakeAgent, user: FakeUser = { id: "1", email: "editor@demo.local" }, routes: Record<string, Route> = {}) {
  const calls: AgentCall[] = [];
  const fetchMock = vi.fn((input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const raw = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(raw, window.location.origin);
    const method = (init.method ?? "GET").toUpperCase();
    const headers = new Headers(init.headers);
    const bodyText = typeof init.body === "string" ? init.body : undefined;
    if (url.pathname === "/api/v1/auth/csrf") {
      document.cookie = "csrftoken=test-token; path=/";
      return Promise.resolve(new Response(JSON.stringify({ csrf_token: "test-token" }), { headers: { "Content-Type": "application/json" } }));
    }
    const route = routes[`${method} ${url.pathname}`];
    if (route) return Promise.resolve().then(route);
    if (!url.pathname.startsWith("/agent/")) return Promise.reject(new Error(`Unexpected request: ${method} ${raw}`));
    const path = `${url.pathname.slice("/agent".length)}${url.search}`;
    calls.push({ method, path, headers, body: bodyText ? (JSON.parse(bodyText) as unknown) : undefined, credentials: init.credentials });
    if (init.signal?.aborted) return Promise.reject(new DOMException("The operation was aborted.", "AbortError"));
    return Promise.resolve().then(() => agent.handle({ method, path, headers, body: bodyText, signal: init.signal ?? null, user }));
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}
