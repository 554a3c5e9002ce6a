import { fetchAgentInfo, getThread, searchAssistants, searchThreads } from "../../api/agent";
import type { AgentAssistant } from "../../api/agent-types";
import { useApiQuery } from "../../api/use-api-query";
import { threadAssistantId, type ServerModelInfo } from "../../lib/threads";

export function useAgentAssistants(orgSlug: string) {
  return useApiQuery(`agent-assistants:${orgSlug}`, (signal) => searchAssistants(orgSlug, signal));
}

/** What `/agent/info` says about models; null until known (a failure is never shown as an error). */
export function useServerModelInfo(orgSlug: string): ServerModelInfo | null {
  const info = useApiQuery(`agent-info:${orgSlug}`, (signal) => fetchAgentInfo(orgSlug, signal));
  return info.status === "success" ? (info.data.atrium ?? {}) : null;
}

export const THREAD_PAGE = 50;

/** The user's conversations, newest first, optionally only those with one assistant. */
export function useThreadList(orgSlug: string, assistantFilter: string, limit: number) {
  return useApiQuery(
    `threads:${orgSlug}:${assistantFilter}`,
    (signal) =>
      searchThreads(orgSlug, { limit, offset: 0, ...(assistantFilter ? { metadata: { assistant_id: assistantFilter } } : {}) }, signal),
    { keepDataOnReload: true },
  );
}

/** The assistant to start new chats with: the deep agent's default, else the first one. */
export function defaultAssistant(assistants: readonly AgentAssistant[]): AgentAssistant | null {
  return (
    assistants.find((assistant) => assistant.graph_id === "agent" && assistant.metadata?.created_by === "system") ??
    assistants.find((assistant) => assistant.graph_id === "agent") ??
    assistants[0] ??
    null
  );
}

export type ThreadAssistant =
  | { status: "new" }
  | { status: "loading" }
  | { status: "ready"; assistantId: string | null }
  | { status: "not-found" }
  | { status: "error"; message: string; reload: () => void };

/**
 * Which assistant an open thread belongs to. Threads started on this page are known already (the
 * server may not even have them yet); others are looked up, and another user's thread, like a
 * deleted one, is a 404.
 */
export function useThreadAssistant(orgSlug: string, threadId: string | null, known: Readonly<Record<string, string>>): ThreadAssistant {
  const knownId = threadId ? known[threadId] : undefined;
  const lookup = useApiQuery(threadId && !knownId ? `thread:${orgSlug}:${threadId}` : null, (signal) =>
    getThread(orgSlug, threadId ?? "", signal),
  );
  if (!threadId) return { status: "new" };
  if (knownId) return { status: "ready", assistantId: knownId };
  switch (lookup.status) {
    case "loading":
      return { status: "loading" };
    case "success":
      return { status: "ready", assistantId: threadAssistantId(lookup.data.metadata) };
    case "error":
      // A malformed id is a 422; for the reader it is the same "no such conversation".
      return lookup.error.status === 404 || lookup.error.status === 422
        ? { status: "not-found" }
        : { status: "error", message: lookup.error.message, reload: lookup.reload };
  }
}

/**
 * The assistant of the open chat: for a new chat the one in `?assistant=` (else the default); for
 * a thread the one it was started with, which keeps its id even if it is no longer listed.
 */
export function resolveAssistant(
  list: readonly AgentAssistant[],
  requested: string | null,
  thread: ThreadAssistant,
): { assistant: AgentAssistant | null; assistantId: string | null } {
  if (thread.status === "new") {
    const assistant = list.find((candidate) => candidate.assistant_id === requested) ?? defaultAssistant(list);
    return { assistant, assistantId: assistant?.assistant_id ?? null };
  }
  if (thread.status !== "ready") return { assistant: null, assistantId: null };
  if (thread.assistantId === null) {
    const assistant = defaultAssistant(list);
    return { assistant, assistantId: assistant?.assistant_id ?? null };
  }
  const id = thread.assistantId;
  return { assistant: list.find((candidate) => candidate.assistant_id === id) ?? null, assistantId: id };
}
