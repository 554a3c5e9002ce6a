import { api } from "./client";
import type { Assistant, AssistantDetail, AssistantGrants, AssistantPatch } from "./types";

function assistantsPath(orgSlug: string): string {
  return `/api/v1/orgs/${encodeURIComponent(orgSlug)}/assistants`;
}

function assistantPath(orgSlug: string, assistantId: string): string {
  return `${assistantsPath(orgSlug)}/${encodeURIComponent(assistantId)}`;
}

export function listAssistants(orgSlug: string, signal?: AbortSignal): Promise<Assistant[]> {
  return api.get<Assistant[]>(assistantsPath(orgSlug), signal);
}

export function getAssistant(orgSlug: string, assistantId: string, signal?: AbortSignal): Promise<AssistantDetail> {
  return api.get<AssistantDetail>(assistantPath(orgSlug, assistantId), signal);
}

/** Saves a new version of the assistant; a policy violation rejects with a 422 naming the field. */
export function updateAssistant(orgSlug: string, assistantId: string, patch: AssistantPatch): Promise<AssistantDetail> {
  return api.patch<AssistantDetail>(assistantPath(orgSlug, assistantId), patch);
}

export function getAssistantGrants(orgSlug: string, assistantId: string, signal?: AbortSignal): Promise<AssistantGrants> {
  return api.get<AssistantGrants>(`${assistantPath(orgSlug, assistantId)}/grants`, signal);
}

export function putAssistantGrants(orgSlug: string, assistantId: string, grants: AssistantGrants): Promise<AssistantGrants> {
  return api.put<AssistantGrants>(`${assistantPath(orgSlug, assistantId)}/grants`, grants);
}
