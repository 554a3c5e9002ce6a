import type { Assistant, Me, Membership, Role } from "../api/types";

export function makeMembership(slug: string, role: Role, name = `${slug.charAt(0).toUpperCase()}${slug.slice(1)}`): Membership {
  return { org: { id: `00000000-0000-4000-8000-${slug.padStart(12, "0").slice(-12)}`, slug, name }, role };
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
