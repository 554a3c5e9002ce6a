import { Outlet, useParams } from "react-router";
import { NotFound } from "../../components/ui/not-found";
import { useMe } from "../auth/session-context";
import { AppShell } from "../shell/app-shell";
import { CurrentOrgContext } from "./current-org-context";
import { findMembership } from "./memberships";

/**
 * `/o/:slug/*`: resolves the organisation from the URL against the user's memberships. An
 * organisation the user doesn't belong to is a plain 404, the same answer the API gives.
 */
export function OrgLayout() {
  const me = useMe();
  const { slug = "" } = useParams();
  const membership = findMembership(me, slug);

  if (!membership) {
    return (
      <AppShell membership={null}>
        <NotFound title="Organisation not found" />
      </AppShell>
    );
  }

  return (
    <CurrentOrgContext value={membership}>
      <AppShell membership={membership}>
        <Outlet />
      </AppShell>
    </CurrentOrgContext>
  );
}
