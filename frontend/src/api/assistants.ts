import { api } from "./client";
import type { Assistant } from "./types";

export function listAssistants(orgSlug: string, signal?: AbortSignal): Promise<Assistant[]> {
  return api.get<Assistant[]>(`/api/v1/orgs/${encodeURIComponent(orgSlug)}/assistants`, signal);
}
