import { describe, expect, it } from "vitest";
import { makeMe, makeMembership } from "../../test/fixtures";
import { canOpenAdmin, defaultMembership, findMembership } from "./memberships";

describe("memberships", () => {
  const me = makeMe({ memberships: [makeMembership("demo", "admin"), makeMembership("acme", "viewer")] });

  it("finds the membership for a slug, or null", () => {
    expect(findMembership(me, "acme")?.role).toBe("viewer");
    expect(findMembership(me, "other")).toBeNull();
  });

  it("defaults to the first membership, or null without any", () => {
    expect(defaultMembership(me)?.org.slug).toBe("demo");
    expect(defaultMembership(makeMe({ memberships: [] }))).toBeNull();
  });

  it.each([
    [false, false, "admin", true],
    [false, false, "builder", false],
    [false, false, "end_user", false],
    [false, false, "viewer", false],
    [false, false, null, false],
    [true, false, "viewer", true],
    [false, true, null, true],
  ] as const)("canOpenAdmin(staff=%s, superuser=%s, role=%s) is %s", (isStaff, isSuperuser, role, expected) => {
    const membership = role === null ? null : makeMembership("demo", role);
    expect(canOpenAdmin(makeMe({ is_staff: isStaff, is_superuser: isSuperuser }), membership)).toBe(expected);
  });

  it("decides from the permissions the server sent, not from the role's name", () => {
    const membership = { ...makeMembership("demo", "viewer"), permissions: ["read" as const, "manage_org" as const] };
    expect(canOpenAdmin(makeMe(), membership)).toBe(true);
  });
});
