import { api } from "./client";
import type { OrgPolicy, WorkspaceSecret } from "./types";

function orgPath(orgSlug: string): string {
  return `/api/v1/orgs/${encodeURIComponent(orgSlug)}`;
}

export function getPolicy(orgSlug: string, signal?: AbortSignal): Promise<OrgPolicy> {
  return api.get<OrgPolicy>(`${orgPath(orgSlug)}/policy`, signal);
}

export function putPolicy(orgSlug: string, policy: OrgPolicy): Promise<OrgPolicy> {
  return api.put<OrgPolicy>(`${orgPath(orgSlug)}/policy`, policy);
}

/** Names and descriptions of the org's workspace secrets (admins only; values never leave the server). */
export function listSecrets(orgSlug: string, signal?: AbortSignal): Promise<WorkspaceSecret[]> {
  return api.get<WorkspaceSecret[]>(`${orgPath(orgSlug)}/secrets`, signal);
}
