/**
 * Wire types of the control-plane API (`/api/v1`). They mirror the server's `Out` schemas field
 * for field; when the OpenAPI export lands they are generated from it instead of written here.
 */

/** A member's role. Only the badge shows it: what the app offers is decided from `permissions`. */
export type Role = "viewer" | "end_user" | "builder" | "admin";

/**
 * What a member may do in an organisation (`atrium.core.tenancy.Permission`): `read` the org,
 * `use_agents` (chat, own threads, memory and connections), `configure_agents` (change
 * assistants within the org's policy), `manage_org` (members, secrets, policy, grants).
 */
export type Permission = "read" | "use_agents" | "configure_agents" | "manage_org";

export interface Org {
  id: string;
  slug: string;
  name: string;
}

export interface Membership {
  org: Org;
  role: Role;
  permissions: Permission[];
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

/** One assistant with its settings (`GET /orgs/{org}/assistants/{id}`). */
export interface AssistantDetail extends Assistant {
  config: Record<string, unknown>;
  /** The graph's per-assistant settings; for the deep agent see `lib/assistant-settings.ts`. */
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** `PATCH /orgs/{org}/assistants/{id}`: each field given replaces the stored one (metadata merges). */
export interface AssistantPatch {
  name?: string;
  description?: string | null;
  context?: Record<string, unknown>;
}

/** The org's policy (`GET`/`PUT /orgs/{org}/policy`): the hosts an admin approved for sandbox egress. */
export interface OrgPolicy {
  egress_hosts: string[];
}

/** Who sees an assistant: every member, or only those who configure agents (hidden from end users). */
export type GrantAudience = "everyone" | "team";

/** What an admin granted an assistant (`GET`/`PUT /orgs/{org}/assistants/{id}/grants`). */
export interface AssistantGrants {
  /** Names of workspace secrets a run of this assistant receives; no others. */
  secrets: string[];
  audience: GrantAudience;
}

/** A workspace secret as listed to admins: its name, never its value. */
export interface WorkspaceSecret {
  name: string;
  description: string;
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
