import type { Me, Membership, Role } from "../../api/types";

export function findMembership(me: Me, slug: string): Membership | null {
  return me.memberships.find((membership) => membership.org.slug === slug) ?? null;
}

/** The organisation to open when the URL names none: the first, in the order the server sends. */
export function defaultMembership(me: Me): Membership | null {
  return me.memberships[0] ?? null;
}

/**
 * Whether to offer the link to the operator console at /admin/. Staff can always use it; an
 * organisation's admins get it too, because that is where they manage their organisation.
 */
export function canOpenAdmin(me: Me, role: Role | null): boolean {
  return me.is_staff || me.is_superuser || role === "admin";
}
