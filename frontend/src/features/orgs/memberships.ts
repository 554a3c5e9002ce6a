import type { Me, Membership } from "../../api/types";
import { can } from "./permissions";

export function findMembership(me: Me, slug: string): Membership | null {
  return me.memberships.find((membership) => membership.org.slug === slug) ?? null;
}

/** The organisation to open when the URL names none: the first, in the order the server sends. */
export function defaultMembership(me: Me): Membership | null {
  return me.memberships[0] ?? null;
}

/**
 * Whether to offer the link to the operator console at /admin/. Staff can always use it; those
 * who manage an organisation get it too, because that is where they manage its members and keys.
 */
export function canOpenAdmin(me: Me, membership: Membership | null): boolean {
  return me.is_staff || me.is_superuser || can(membership, "manage_org");
}
