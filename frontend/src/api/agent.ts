import { agentHeaders, AGENT_PATH } from "./agent-headers";
import type {
  AgentAssistant,
  AgentInfo,
  AgentRun,
  AgentThread,
  JsonObject,
  StoreItem,
  StoreSearchOut,
  ThreadStateSnapshot,
} from "./agent-types";
import { request, send } from "./client";

/**
 * REST calls to the Agent Server API that the screens make themselves (lists, renames, memory).
 * They go through `client.ts` like every other request, so errors arrive as `ApiError`s.
 */

function agentRequest<T>(orgSlug: string, path: string, options: { method?: "GET" | "POST" | "PATCH" | "DELETE"; body?: unknown; signal?: AbortSignal } = {}) {
  return request<T>(`${AGENT_PATH}${path}`, { ...options, headers: agentHeaders(orgSlug) });
}

function threadPath(threadId: string): string {
  return `/threads/${encodeURIComponent(threadId)}`;
}

export function fetchAgentInfo(orgSlug: string, signal?: AbortSignal): Promise<AgentInfo> {
  return agentRequest<AgentInfo>(orgSlug, "/info", signal ? { signal } : {});
}

export function searchAssistants(orgSlug: string, signal?: AbortSignal): Promise<AgentAssistant[]> {
  return agentRequest<AgentAssistant[]>(orgSlug, "/assistants/search", {
    method: "POST",
    body: { limit: 100, offset: 0, sort_by: "name", sort_order: "asc" },
    ...(signal ? { signal } : {}),
  });
}

export interface ThreadQuery {
  metadata?: JsonObject;
  limit: number;
  offset: number;
}

export function searchThreads(orgSlug: string, query: ThreadQuery, signal?: AbortSignal): Promise<AgentThread[]> {
  return agentRequest<AgentThread[]>(orgSlug, "/threads/search", {
    method: "POST",
    body: {
      ...(query.metadata ? { metadata: query.metadata } : {}),
      limit: query.limit,
      offset: query.offset,
      sort_by: "updated_at",
      sort_order: "desc",
      select: ["thread_id", "created_at", "updated_at", "metadata", "status"],
    },
    ...(signal ? { signal } : {}),
  });
}

export function getThread(orgSlug: string, threadId: string, signal?: AbortSignal): Promise<AgentThread> {
  return agentRequest<AgentThread>(orgSlug, threadPath(threadId), signal ? { signal } : {});
}

/** Thread metadata is shallow-merged by the server, so this touches only the title. */
export function renameThread(orgSlug: string, threadId: string, title: string): Promise<AgentThread> {
  return agentRequest<AgentThread>(orgSlug, threadPath(threadId), { method: "PATCH", body: { metadata: { title } } });
}

export function deleteThread(orgSlug: string, threadId: string): Promise<void> {
  return send(`${AGENT_PATH}${threadPath(threadId)}`, { method: "DELETE", headers: agentHeaders(orgSlug) });
}

/** Checkpoints of a thread, newest first; the branch navigator is built from them. */
export function getThreadHistory(
  orgSlug: string,
  threadId: string,
  limit: number,
  signal?: AbortSignal,
): Promise<ThreadStateSnapshot[]> {
  return agentRequest<ThreadStateSnapshot[]>(orgSlug, `${threadPath(threadId)}/history`, {
    method: "POST",
    body: { limit },
    ...(signal ? { signal } : {}),
  });
}

/**
 * Cancels whatever is still running on a thread. The streaming hook only cancels runs it started
 * itself; after a page refresh or an approval it no longer knows the run id, so Stop asks here.
 */
export async function cancelActiveRuns(orgSlug: string, threadId: string): Promise<number> {
  const runs = await agentRequest<AgentRun[]>(orgSlug, `${threadPath(threadId)}/runs?limit=10`);
  const active = runs.filter((run) => run.status === "running" || run.status === "pending");
  await Promise.all(
    active.map((run) =>
      send(`${AGENT_PATH}${threadPath(threadId)}/runs/${encodeURIComponent(run.run_id)}/cancel?wait=0&action=interrupt`, {
        method: "POST",
        headers: agentHeaders(orgSlug),
      }),
    ),
  );
  return active.length;
}

export function searchStoreItems(orgSlug: string, namespacePrefix: string[], signal?: AbortSignal): Promise<StoreItem[]> {
  return agentRequest<StoreSearchOut>(orgSlug, "/store/items/search", {
    method: "POST",
    body: { namespace_prefix: namespacePrefix, limit: 100, offset: 0 },
    ...(signal ? { signal } : {}),
  }).then((out) => out.items);
}

export function deleteStoreItem(orgSlug: string, namespace: string[], key: string): Promise<void> {
  return send(`${AGENT_PATH}/store/items`, { method: "DELETE", body: { namespace, key }, headers: agentHeaders(orgSlug) });
}
