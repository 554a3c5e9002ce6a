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
    [false, false, "editor", false],
    [false, false, "viewer", false],
    [false, false, null, false],
    [true, false, "viewer", true],
    [false, true, null, true],
  ] as const)("canOpenAdmin(staff=%s, superuser=%s, role=%s) is %s", (isStaff, isSuperuser, role, expected) => {
    expect(canOpenAdmin(makeMe({ is_staff: isStaff, is_superuser: isSuperuser }), role)).toBe(expected);
  });
});
