import { vi } from "vitest";

type Handler = (request: { url: string; init: RequestInit; body: unknown }) => Response | Promise<Response>;

export interface RecordedCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  init: RequestInit;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/**
 * Replaces `fetch` with a table of handlers keyed by "METHOD /path". An unknown route fails the
 * test loudly instead of hanging, and every call is recorded for assertions.
 */
export function mockFetch(routes: Record<string, Handler>) {
  const calls: RecordedCall[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = (init.method ?? "GET").toUpperCase();
    const headers = { ...(init.headers as Record<string, string> | undefined) };
    const body: unknown = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, url, headers, body, init });
    if (init.signal?.aborted) throw new DOMException("The operation was aborted.", "AbortError");
    const handler = routes[`${method} ${url}`];
    if (!handler) throw new Error(`Unexpected request: ${method} ${url}`);
    return handler({ url, init, body });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}
