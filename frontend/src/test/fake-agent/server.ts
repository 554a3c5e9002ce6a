import type { AgentAssistant } from "../../api/agent-types";
import { eventStream, type EventFilter } from "./events";
import { resumeRun, startRun, type RunEnv } from "./model";
import { head, newThread, now, sortableId, toThreadOut, toThreadState, type FakeMessage, type FakeRun, type FakeThread } from "./threads";

/**
 * A fake of the Agent Server API (`/agent`) as the web app uses it, per docs/agent-protocol.md:
 * the REST calls for threads, history, runs and the store, and the v2 thread protocol
 * (`/threads/{id}/commands`, `/threads/{id}/stream/events`) that `@langchain/react` speaks.
 * Requests are plain objects so it runs both behind a mocked `fetch` (unit tests) and behind an
 * HTTP server (the contract server for the e2e tests). It is a test double, not a reference.
 */

export interface FakeUser {
  id: string;
  email: string;
}

export interface FakeRequest {
  method: string;
  /** The path after `/agent`, with its query string. */
  path: string;
  headers: Headers;
  body: string | undefined;
  signal: AbortSignal | null;
  user: FakeUser | null;
}

export interface StoreRecord {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface FakeAgentOptions {
  org?: string;
  /** The org's id, for the deep agent's memory namespace `["org", <id>, "user", <user>, "memories"]`. */
  orgId?: string;
  tokenDelayMs?: number;
  heartbeatMs?: number;
  offline?: boolean;
  assistants?: AgentAssistant[];
  /** Refuse every `run.start` with this message, as the server does when a budget is spent (its 429). */
  refuseRunStart?: string;
  /** The refusal's `reason` (the platform's code): `budget_exceeded` unless given. */
  refuseRunStartReason?: string;
}

export const FAKE_ASSISTANTS: AgentAssistant[] = [
  { assistant_id: "00000000-0000-4000-8000-00000000a9e1", graph_id: "agent", name: "Deep agent", context: {}, metadata: { created_by: "system" } },
  { assistant_id: "00000000-0000-4000-8000-00000000ec40", graph_id: "echo", name: "Echo", context: { model: "openai:gpt-4.1" }, metadata: {} },
];

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const notFound = (what = "Not found.") => json({ detail: what }, 404);

function parse(body: string | undefined): Record<string, unknown> {
  if (!body) return {};
  const value: unknown = JSON.parse(body);
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function contains(metadata: Record<string, unknown>, filter: unknown): boolean {
  if (typeof filter !== "object" || filter === null) return true;
  return Object.entries(filter).every(([key, value]) => JSON.stringify(metadata[key]) === JSON.stringify(value));
}

export function createFakeAgent(options: FakeAgentOptions = {}) {
  const org = options.org ?? "demo";
  const orgId = options.orgId ?? "00000000-0000-4000-8000-000000000001";
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const assistants = options.assistants ?? FAKE_ASSISTANTS;
  const threads = new Map<string, FakeThread>();
  const store = new Map<string, StoreRecord>();
  const queues = new Map<string, Promise<void>>();

  function putItem(namespace: string[], key: string, value: Record<string, unknown>) {
    const id = `${namespace.join("/")}|${key}`;
    const created = store.get(id)?.created_at ?? now();
    store.set(id, { namespace, key, value, created_at: created, updated_at: now() });
  }

  /** Runs on one thread go one after another (the server's default "enqueue" strategy). */
  function enqueue(thread: FakeThread, user: FakeUser, assistantId: string, work: (env: RunEnv) => Promise<void>): FakeRun {
    const context = assistants.find((candidate) => candidate.assistant_id === assistantId)?.context;
    const interruptOn = Array.isArray(context?.interrupt_on) ? context.interrupt_on.map(String) : [];
    const run: FakeRun = { run_id: sortableId(), thread_id: thread.id, assistant_id: assistantId, status: "pending", cancelled: false, created_at: now() };
    thread.runs.unshift(run);
    const env: RunEnv = {
      thread,
      run,
      tokenDelayMs,
      interruptOn,
      onWrite: (path, content) => {
        if (path.startsWith("/memories/")) {
          putItem(["org", orgId, "user", user.id, "memories"], path.slice("/memories".length), { content: content.replace(/\n$/, "").split("\n") });
        }
      },
    };
    const previous = queues.get(thread.id) ?? Promise.resolve();
    const next = previous.then(() => work(env));
    queues.set(thread.id, next);
    return run;
  }

  function command(thread: FakeThread | undefined, threadId: string, user: FakeUser, body: Record<string, unknown>): Response {
    const id = typeof body.id === "number" ? body.id : null;
    const params = (body.params ?? {}) as Record<string, unknown>;
    const fail = (error: string, message: string, extra: Record<string, unknown> = {}) => json({ type: "error", id, error, message, ...extra });
    if (id === null || typeof body.method !== "string") return json({ type: "error", id: null, error: "invalid_argument", message: "id and method are required" }, 400);

    if (body.method === "run.start") {
      // The server answers a refusal of the platform's in the command envelope, with its own code as
      // `reason` (a spent budget: permission_denied, budget_exceeded).
      if (options.refuseRunStart) return fail("permission_denied", options.refuseRunStart, { reason: options.refuseRunStartReason ?? "budget_exceeded" });
      const assistantId = params.assistant_id;
      const assistant = assistants.find((candidate) => candidate.assistant_id === assistantId || candidate.graph_id === assistantId);
      if (!assistant) return fail("invalid_argument", "unknown assistant");
      const target = thread ?? newThread(threadId, user.email, { graph_id: assistant.graph_id, assistant_id: assistant.assistant_id });
      threads.set(threadId, target);
      const configurable = ((params.config as Record<string, unknown> | undefined)?.configurable ?? {}) as Record<string, unknown>;
      const forkId = configurable.checkpoint_id;
      const base = typeof forkId === "string" ? target.checkpoints.find((checkpoint) => checkpoint.id === forkId) : (head(target) ?? undefined);
      if (typeof forkId === "string" && !base) return fail("no_such_checkpoint", `no checkpoint ${forkId}`);
      const raw = (params.input as { messages?: Record<string, unknown>[] } | null)?.messages ?? null;
      const input = raw?.map((message): FakeMessage => ({ ...message, type: "human", id: typeof message.id === "string" ? message.id : sortableId() }));
      const applied = target.log.lastSeq;
      const run = enqueue(target, user, assistant.assistant_id, (env) => startRun(env, base ?? null, input ?? null));
      return json({ type: "success", id, result: { run_id: run.run_id }, meta: { applied_through_seq: applied } });
    }

    if (body.method === "input.respond") {
      const pending = thread ? head(thread)?.interrupt : null;
      if (!thread || !pending) return fail("no_such_run", "nothing is waiting for input");
      if (params.interrupt_id !== pending.id) return fail("no_such_interrupt", "no such interrupt");
      enqueue(thread, user, String(thread.metadata.assistant_id), (env) => resumeRun(env, pending, params.response));
      return json({ type: "success", id, result: {} });
    }

    return fail("unknown_command", `unknown command ${body.method}`);
  }

  function handle(request: FakeRequest): Response {
    const url = new URL(request.path, "http://fake");
    const parts = url.pathname.split("/").filter(Boolean);
    const isId = (index: number) => ["threads", "runs"].includes(parts[index - 1] ?? "") && parts[index] !== "search";
    const route = `${request.method} /${parts.map((part, index) => (isId(index) ? ":id" : part)).join("/")}`;
    if (route === "GET /ok") return json({ ok: true });
    if (route === "GET /info") return json({ version: "fake", atrium: { offline_model: options.offline ?? true } });
    const user = request.user;
    if (!user) return json({ detail: "Authentication required." }, 401);
    if (request.headers.get("x-atrium-org") !== org) return notFound("Organisation not found.");
    const body = parse(request.body);

    if (route === "POST /assistants/search") return json(assistants);
    if (route === "POST /threads/search") {
      const limit = typeof body.limit === "number" ? body.limit : 10;
      const offset = typeof body.offset === "number" ? body.offset : 0;
      const mine = [...threads.values()].filter((thread) => thread.owner === user.email && contains(thread.metadata, body.metadata));
      mine.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
      return json(mine.slice(offset, offset + limit).map(toThreadOut));
    }
    if (route === "POST /store/items/search") {
      const prefix = Array.isArray(body.namespace_prefix) ? body.namespace_prefix.map(String) : [];
      const visible = (namespace: string[]) => {
        const at = namespace.indexOf("user");
        return at === -1 || namespace[at + 1] === user.id;
      };
      const items = [...store.values()].filter((item) => visible(item.namespace) && prefix.every((label, index) => item.namespace[index] === label));
      return json({ items: items.map((item) => ({ ...item, score: null })) });
    }
    if (route === "DELETE /store/items") {
      const namespace = Array.isArray(body.namespace) ? body.namespace.map(String) : [];
      const at = namespace.indexOf("user");
      if (at === -1 || namespace[at + 1] === user.id) store.delete(`${namespace.join("/")}|${String(body.key)}`);
      return new Response(null, { status: 204 });
    }

    const threadId = parts[0] === "threads" ? (parts[1] ?? "") : "";
    const existing = threads.get(threadId);
    const thread = existing?.owner === user.email ? existing : undefined;
    if (route === "POST /threads/:id/commands") {
      if (existing && !thread) return notFound("Thread not found.");
      return command(thread, threadId, user, body);
    }
    if (!thread) return notFound(`Thread ${threadId} not found.`);
    switch (route) {
      case "GET /threads/:id":
        return json(toThreadOut(thread));
      case "PATCH /threads/:id":
        thread.metadata = { ...thread.metadata, ...(body.metadata as Record<string, unknown> | undefined) };
        thread.updatedAt = now();
        return json(toThreadOut(thread));
      case "DELETE /threads/:id":
        threads.delete(thread.id);
        return new Response(null, { status: 204 });
      case "GET /threads/:id/state":
        return json(toThreadState(thread, head(thread)));
      case "POST /threads/:id/history": {
        const checkpointNs = (body.checkpoint as { checkpoint_ns?: string } | undefined)?.checkpoint_ns;
        if (checkpointNs) return json([]);
        const limit = typeof body.limit === "number" ? body.limit : 10;
        const newestFirst = [...thread.checkpoints].sort((a, b) => (a.id < b.id ? 1 : -1));
        return json(newestFirst.slice(0, limit).map((checkpoint) => toThreadState(thread, checkpoint)));
      }
      case "POST /threads/:id/stream/events": {
        const filter: EventFilter = { channels: Array.isArray(body.channels) ? body.channels.map(String) : [] };
        if (Array.isArray(body.namespaces)) filter.namespaces = body.namespaces as string[][];
        if (typeof body.depth === "number") filter.depth = body.depth;
        if (typeof body.since === "number") filter.since = body.since;
        if (filter.channels.length === 0) return json({ detail: "channels must not be empty" }, 400);
        return new Response(eventStream(thread.log, filter, request.signal, options.heartbeatMs ?? 5000), {
          headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store" },
        });
      }
      case "GET /threads/:id/runs":
        return json(thread.runs.map((run) => ({ run_id: run.run_id, thread_id: run.thread_id, assistant_id: run.assistant_id, status: run.status, created_at: run.created_at })));
      case "POST /threads/:id/runs/:id/cancel": {
        const run = thread.runs.find((candidate) => candidate.run_id === parts[3]);
        if (!run) return notFound("No runs found to cancel.");
        run.cancelled = true;
        return new Response(null, { status: 202 });
      }
      default:
        return notFound(`No route ${route}.`);
    }
  }

  return { handle, threads, store, putItem };
}

export type FakeAgent = ReturnType<typeof createFakeAgent>;
