import { agentHeaders, AGENT_PATH } from "./agent-headers";
import { apiErrorFromBody, isAbortError, toApiError } from "./errors";
import { request, sessionFetch } from "./client";

/**
 * Files an end user attaches to their own thread (`/agent/threads/{id}/files`). The agent reads them
 * under `/uploads/`; only the thread's owner may attach, list or download them.
 */

export interface ThreadFile {
  /** As the agent sees it, e.g. `/uploads/notes.md`. */
  path: string;
  name: string;
  size: number;
  encoding: "utf-8" | "base64";
}

function filesPath(threadId: string): string {
  return `${AGENT_PATH}/threads/${encodeURIComponent(threadId)}/files`;
}

/** Stores every file or none; a refusal (413 too large, 415 type, 422 name or text) is an `ApiError`. */
export async function uploadThreadFiles(orgSlug: string, threadId: string, files: readonly File[]): Promise<ThreadFile[]> {
  const body = new FormData();
  for (const file of files) body.append("file", file, file.name);
  let response: Response;
  let text: string;
  try {
    response = await sessionFetch(filesPath(threadId), { method: "POST", body, headers: { ...agentHeaders(orgSlug), Accept: "application/json" } });
    text = await response.text();
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw toApiError(error);
  }
  if (!response.ok) throw apiErrorFromBody(response.status, response.statusText, text);
  return JSON.parse(text) as ThreadFile[];
}

export function listThreadFiles(orgSlug: string, threadId: string, signal?: AbortSignal): Promise<ThreadFile[]> {
  return request<ThreadFile[]>(filesPath(threadId), { headers: agentHeaders(orgSlug), ...(signal ? { signal } : {}) });
}

/** The file's bytes: the Agent API needs the org header, which a plain link cannot send. */
export async function fetchThreadFile(orgSlug: string, threadId: string, name: string): Promise<Blob> {
  const response = await sessionFetch(`${filesPath(threadId)}/${encodeURIComponent(name)}`, { headers: agentHeaders(orgSlug) });
  if (!response.ok) throw apiErrorFromBody(response.status, response.statusText, await response.text());
  return response.blob();
}
