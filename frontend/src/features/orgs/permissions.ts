import type { Membership, Permission } from "../../api/types";

/**
 * Whether the member may do `permission` in the organisation. Every screen decides what to offer
 * with this, from the permissions the server sent, never from the role's name: roles are sets of
 * permissions, not rungs of one ladder. No membership (not signed in to the org) can do nothing.
 * The server checks again on every request; this only avoids offering what would be refused.
 */
export function can(membership: Membership | null | undefined, permission: Permission): boolean {
  return membership?.permissions.includes(permission) ?? false;
}
