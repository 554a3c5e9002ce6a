/**
 * Wire types of the control-plane API (`/api/v1`). They mirror the server's `Out` schemas field
 * for field; when the OpenAPI export lands they are generated from it instead of written here.
 */

export type Role = "admin" | "editor" | "viewer";

export interface Org {
  id: string;
  slug: string;
  name: string;
}

export interface Membership {
  org: Org;
  role: Role;
}

export interface Me {
  id: number;
  email: string;
  name: string;
  is_staff: boolean;
  is_superuser: boolean;
  memberships: Membership[];
}

export interface Assistant {
  id: string;
  graph_id: string;
  name: string;
  description: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface LoginIn {
  email: string;
  password: string;
}

/** A file the agent produced in a thread's sandbox (`GET …/threads/{id}/artifacts`). */
export interface Artifact {
  /** Relative to the sandbox's `/workspace`, e.g. `plots/chart.png`. */
  path: string;
  size: number;
  modified_at: string | null;
}

/** An OpenID Connect provider the login page offers ("Sign in with <name>"). */
export interface SsoProvider {
  slug: string;
  name: string;
  login_url: string;
}
