import type { Assistant, AssistantDetail, Me, Membership, Permission, Role } from "../api/types";

/** The server's `ROLE_PERMISSIONS`, so fixtures look like what `/api/v1/me` sends. */
export const ROLE_PERMISSIONS: Record<Role, Permission[]> = {
  viewer: ["read"],
  end_user: ["read", "use_agents"],
  builder: ["read", "use_agents", "configure_agents"],
  admin: ["read", "use_agents", "configure_agents", "manage_org"],
};

export function makeMembership(slug: string, role: Role, name = `${slug.charAt(0).toUpperCase()}${slug.slice(1)}`): Membership {
  return {
    org: { id: `00000000-0000-4000-8000-${slug.padStart(12, "0").slice(-12)}`, slug, name },
    role,
    permissions: ROLE_PERMISSIONS[role],
  };
}

export function makeMe(overrides: Partial<Me> = {}): Me {
  return {
    id: 1,
    email: "admin@demo.local",
    name: "Demo Admin",
    is_staff: false,
    is_superuser: false,
    memberships: [makeMembership("demo", "admin")],
    ...overrides,
  };
}

export function makeAssistant(overrides: Partial<Assistant> = {}): Assistant {
  return {
    id: "a1b2c3d4-0000-4000-8000-000000000001",
    graph_id: "deep_agent",
    name: "Research assistant",
    description: "Finds and summarises sources.",
    version: 3,
    created_at: "2026-01-02T10:00:00Z",
    updated_at: "2026-03-04T12:30:00Z",
    ...overrides,
  };
}

export function makeAssistantDetail(overrides: Partial<AssistantDetail> = {}): AssistantDetail {
  return {
    ...makeAssistant(),
    config: {},
    context: { model: "offline", system_prompt: "Be brief.", sandbox: "off" },
    metadata: {},
    ...overrides,
  };
}
