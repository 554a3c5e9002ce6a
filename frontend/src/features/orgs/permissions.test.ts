import { describe, expect, it } from "vitest";
import type { Permission, Role } from "../../api/types";
import { makeMembership } from "../../test/fixtures";
import { can } from "./permissions";

const PERMISSIONS: Permission[] = ["read", "use_agents", "configure_agents", "manage_org"];

describe("can", () => {
  it.each<[Role, Permission[]]>([
    ["viewer", ["read"]],
    ["end_user", ["read", "use_agents"]],
    ["builder", ["read", "use_agents", "configure_agents"]],
    ["admin", ["read", "use_agents", "configure_agents", "manage_org"]],
  ])("a %s may do exactly %j", (role, allowed) => {
    const membership = makeMembership("demo", role);
    expect(PERMISSIONS.filter((permission) => can(membership, permission))).toEqual(allowed);
  });

  it("reads the permissions, never the role: an admin role without manage_org cannot manage", () => {
    const membership = { ...makeMembership("demo", "admin"), permissions: ["read" as const] };
    expect(can(membership, "manage_org")).toBe(false);
    expect(can(membership, "read")).toBe(true);
  });

  it("grants nothing without a membership", () => {
    expect(can(null, "read")).toBe(false);
    expect(can(undefined, "read")).toBe(false);
  });
});
