// Shared helpers of the JS conformance rows: environment, a logging fetch, raw SSE reading, a
// headless React renderer and a tiny row runner.
import { JSDOM } from "jsdom";

export const API = (process.env.ATRIUM_URL ?? "").replace(/\/+$/, "");
export const KEY = process.env.LANGGRAPH_API_KEY ?? "";
if (!API || !KEY) {
  console.error("set ATRIUM_URL (the Agent Server API root, e.g. http://127.0.0.1:8000/agent) and LANGGRAPH_API_KEY");
  process.exit(2);
}

// A browser-like global scope for React and the hooks (window.sessionStorage for reconnectOnMount).
const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: "http://localhost/" });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.sessionStorage = dom.window.sessionStorage;
if (typeof globalThis.navigator === "undefined") globalThis.navigator = dom.window.navigator;

// Every request any client makes goes through here, so rows can assert the exact HTTP sequence.
export const requests = [];
const realFetch = globalThis.fetch.bind(globalThis);
export function loggingFetch(input, init = {}) {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const headers = new Headers(init.headers ?? (typeof input === "object" && "headers" in input ? input.headers : {}));
  const entry = {
    method: (init.method ?? (typeof input === "object" && "method" in input ? input.method : "GET")).toUpperCase(),
    path: url.startsWith(API) ? url.slice(API.length) : url,
    lastEventId: headers.get("last-event-id"),
    body: typeof init.body === "string" ? init.body : undefined,
  };
  requests.push(entry);
  return realFetch(input, init).then((response) => {
    entry.status = response.status;
    return response;
  });
}
globalThis.fetch = loggingFetch;

export function requestsSince(mark) {
  return requests.slice(mark).map((r) => `${r.method} ${r.path.split("?")[0]}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(predicate, { timeout = 20000, interval = 25, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await predicate();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(interval);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${message}: expected ${b}, got ${a}`);
}

export const isUuid = (value) =>
  typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

// --- raw HTTP -------------------------------------------------------------------------------------

export async function http(method, path, body, headers = {}) {
  const response = await realFetch(`${API}${path}`, {
    method,
    headers: { "x-api-key": KEY, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export async function command(threadId, body) {
  return http("POST", `/threads/${threadId}/commands`, body);
}

export async function runStart(threadId, assistantId, input, extra = {}) {
  const response = await command(threadId, {
    id: 1,
    method: "run.start",
    params: { assistant_id: assistantId, input, config: { configurable: { thread_id: threadId } }, ...extra },
  });
  assert(response.status === 200 && response.json?.type === "success", `run.start failed: ${response.text}`);
  return response.json.result.run_id;
}

export async function waitRun(threadId, runId, statuses = ["success", "error", "interrupted"]) {
  return waitFor(
    async () => {
      const run = await http("GET", `/threads/${threadId}/runs/${runId}`);
      return run.status === 200 && statuses.includes(run.json.status) ? run.json : null;
    },
    { what: `run ${runId} in ${statuses}` },
  );
}

// An SSE connection read block by block. `events` fills as blocks arrive; `comments` counts `:` lines.
export function openSse(path, { method = "POST", body, headers = {} } = {}) {
  const controller = new AbortController();
  const conn = { events: [], blocks: [], comments: 0, closed: false, status: 0, contentType: "", error: null };
  conn.ready = (async () => {
    const response = await realFetch(`${API}${path}`, {
      method,
      headers: {
        "x-api-key": KEY,
        accept: "text/event-stream",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: controller.signal,
    });
    conn.status = response.status;
    conn.contentType = response.headers.get("content-type") ?? "";
    conn.headers = response.headers;
    return response;
  })();
  conn.done = (async () => {
    let response;
    try {
      response = await conn.ready;
      if (!response.ok) {
        conn.errorBody = await response.text();
        return;
      }
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let match;
        while ((match = /\r?\n\r?\n/.exec(buffer))) {
          const block = buffer.slice(0, match.index);
          buffer = buffer.slice(match.index + match[0].length);
          const lines = block.split(/\r?\n/);
          const comments = lines.filter((l) => l.startsWith(":"));
          conn.comments += comments.length;
          const fields = lines.filter((l) => !l.startsWith(":") && l.length > 0);
          if (!fields.length) continue;
          const parsed = { event: null, id: null, dataLines: [] };
          for (const line of fields) {
            const at = line.indexOf(":");
            const name = at < 0 ? line : line.slice(0, at);
            const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
            if (name === "event") parsed.event = value;
            else if (name === "id") parsed.id = value;
            else if (name === "data") parsed.dataLines.push(value);
          }
          conn.blocks.push(parsed);
          conn.events.push(JSON.parse(parsed.dataLines.join("")));
        }
      }
    } catch (error) {
      if (error.name !== "AbortError") conn.error = error;
    } finally {
      conn.closed = true;
    }
  })();
  conn.close = async () => {
    controller.abort();
    await conn.done;
  };
  conn.until = (predicate, options = {}) =>
    waitFor(() => predicate(conn.events), { what: options.what ?? `events on ${path}`, ...options });
  return conn;
}

export function eventStream(threadId, filter) {
  return openSse(`/threads/${threadId}/stream/events`, { body: filter });
}

export const ROOT_PUMP = {
  channels: ["values", "checkpoints", "lifecycle", "input", "messages", "tools"],
  namespaces: [[]],
  depth: 1,
};

export const rootLifecycle = (events, status) =>
  events.filter((e) => e.method === "lifecycle" && e.params.namespace.length === 0 && (!status || e.params.data.event === status));

// --- headless React -------------------------------------------------------------------------------

export async function render(element) {
  const { createRoot } = await import("react-dom/client");
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  root.render(element);
  return {
    unmount() {
      root.unmount();
      container.remove();
    },
  };
}

// --- rows -----------------------------------------------------------------------------------------

const selected = (process.env.ATRIUM_JS_ROWS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
export const results = [];
export const warnings = [];

export async function row(name, fn, { timeout = 60000 } = {}) {
  if (selected.length && !selected.some((s) => name.startsWith(s))) return;
  const started = Date.now();
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
      }),
    ]);
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false, error });
    console.log(`FAIL  ${name} (${Date.now() - started} ms): ${error?.stack ?? error}`);
  } finally {
    clearTimeout(timer);
  }
}

export function warn(message) {
  warnings.push(message);
  console.log(`WARN  ${message}`);
}

export function summary() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
