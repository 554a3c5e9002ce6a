import { readCookie } from "../lib/cookies";
import { ApiError, apiErrorFromBody, isAbortError, toApiError } from "./errors";

export { ApiError } from "./errors";

/**
 * The only module that calls `fetch`, for the control plane and the Agent Server API alike. It is
 * same-origin by design: the session cookie rides along, and Django's CSRF check gets the token
 * from the `csrftoken` cookie on every unsafe method. Screens never call `fetch` themselves.
 */

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestOptions {
  method?: HttpMethod;
  /** Serialised as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export const CSRF_COOKIE = "csrftoken";
export const CSRF_HEADER = "X-CSRFToken";
export const CSRF_PATH = "/api/v1/auth/csrf";

const SAFE_METHODS: ReadonlySet<HttpMethod> = new Set(["GET", "HEAD"]);

interface CsrfOut {
  csrf_token: string;
}

/**
 * The CSRF token for an unsafe request: the cookie when the browser has one, otherwise a fresh
 * one from the control plane (which also sets the cookie for next time). It is read per request
 * because Django rotates it at login.
 */
async function csrfToken(signal: AbortSignal | undefined): Promise<string> {
  const fromCookie = readCookie(CSRF_COOKIE);
  if (fromCookie) return fromCookie;
  const issued = await request<CsrfOut>(CSRF_PATH, signal ? { signal } : {});
  return readCookie(CSRF_COOKIE) ?? issued.csrf_token;
}

/**
 * `fetch` with the session attached: same-origin credentials always, and the CSRF header on unsafe
 * methods. The Agent Server SDK is handed this function, so its requests (including the long-lived
 * event streams) carry the cookie and the token exactly like the app's own.
 */
export async function sessionFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase() as HttpMethod;
  const headers = new Headers(init.headers);
  if (!SAFE_METHODS.has(method) && !headers.has(CSRF_HEADER)) {
    headers.set(CSRF_HEADER, await csrfToken(init.signal ?? undefined));
  }
  return fetch(input, { ...init, headers, credentials: "same-origin" });
}

/**
 * Sends one request and returns the parsed JSON body; use `send` for endpoints without one.
 * Every failure rejects with an `ApiError`, except an abort, which rethrows the caller's own
 * `AbortError`.
 */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (options.signal) init.signal = options.signal;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }

  let response: Response;
  let text: string;
  try {
    if (!SAFE_METHODS.has(method)) headers[CSRF_HEADER] = await csrfToken(options.signal);
    response = await fetch(path, init);
    text = await response.text();
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw toApiError(error);
  }

  if (!response.ok) throw apiErrorFromBody(response.status, response.statusText, text);
  // Only `send` callers reach this with no body (204), and they ignore the value.
  if (response.status === 204 || text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "invalid_response", "The server sent a response the app could not read.");
  }
}

/** For endpoints that answer 204 No Content (or whose body the caller doesn't need). */
export async function send(path: string, options: RequestOptions = {}): Promise<void> {
  await request<unknown>(path, options);
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>(path, signal ? { signal } : {}),
  post: <T>(path: string, body?: unknown) => request<T>(path, { method: "POST", body }),
  patch: <T>(path: string, body: unknown) => request<T>(path, { method: "PATCH", body }),
  put: <T>(path: string, body: unknown) => request<T>(path, { method: "PUT", body }),
  delete: (path: string) => send(path, { method: "DELETE" }),
};
