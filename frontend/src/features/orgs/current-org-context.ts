import { createContext, useContext } from "react";
import type { Membership } from "../../api/types";

/** The organisation named by the URL (`/o/:slug`) and the user's role in it. */
export const CurrentOrgContext = createContext<Membership | null>(null);

export function useCurrentMembership(): Membership {
  const membership = useContext(CurrentOrgContext);
  if (!membership) throw new Error("useCurrentMembership must be used under /o/:slug.");
  return membership;
}
