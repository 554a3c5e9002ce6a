import { api } from "./client";
import type { Artifact } from "./types";

/**
 * Files the agent produced in a thread's sandbox. Only the thread's owner may list or download them;
 * anyone else gets a 404, exactly like a thread that does not exist.
 */
function artifactsPath(orgSlug: string, threadId: string): string {
  return `/api/v1/orgs/${encodeURIComponent(orgSlug)}/threads/${encodeURIComponent(threadId)}/artifacts`;
}

export function listArtifacts(orgSlug: string, threadId: string, signal?: AbortSignal): Promise<Artifact[]> {
  return api.get<Artifact[]>(artifactsPath(orgSlug, threadId), signal);
}

/** A same-origin link the browser downloads with the session cookie; each path segment is encoded. */
export function artifactUrl(orgSlug: string, threadId: string, path: string): string {
  return `${artifactsPath(orgSlug, threadId)}/${path.split("/").map(encodeURIComponent).join("/")}`;
}
