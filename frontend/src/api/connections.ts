import { api } from "./client";

/** A user's grant at an outside service (never its tokens: the server does not send them). */
export interface Connection {
  id: string;
  provider_id: string;
  provider_slug: string;
  provider_name: string;
  user_email: string;
  scopes: string[];
  status: "active" | "needs_consent" | "revoked";
  expires_at: string | null;
  refreshed_at: string | null;
  created_at: string;
}

const base = (orgSlug: string) => `/api/v1/orgs/${encodeURIComponent(orgSlug)}`;

export function listMyConnections(orgSlug: string, signal?: AbortSignal): Promise<Connection[]> {
  return api.get<Connection[]>(`${base(orgSlug)}/me/connections`, signal);
}

export function disconnect(orgSlug: string, connectionId: string): Promise<void> {
  return api.delete(`${base(orgSlug)}/me/connections/${encodeURIComponent(connectionId)}`);
}
