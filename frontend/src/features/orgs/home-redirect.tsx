import { Navigate } from "react-router";
import { EmptyState } from "../../components/ui/empty-state";
import { useMe } from "../auth/session-context";
import { AppShell } from "../shell/app-shell";
import { defaultMembership } from "./memberships";

/** `/`: opens the user's first organisation, or explains why there is nothing to open. */
export function HomeRedirect() {
  const me = useMe();
  const membership = defaultMembership(me);
  if (membership) return <Navigate to={`/o/${encodeURIComponent(membership.org.slug)}`} replace />;
  return (
    <AppShell membership={null}>
      <title>Atrium</title>
      <EmptyState title="No organisation yet">
        <p>You are not a member of any organisation. Ask an administrator to add you to one.</p>
      </EmptyState>
    </AppShell>
  );
}
