import { useState } from "react";
import { Link } from "react-router";
import { toApiError } from "../../api/errors";
import type { Membership } from "../../api/types";
import { Button } from "../../components/ui/button";
import { useMe, useSession } from "../auth/session-context";
import { canOpenAdmin } from "../orgs/memberships";
import { OrgSwitcher } from "../orgs/org-switcher";
import { RoleBadge } from "../orgs/role-badge";
import { OrgNav } from "./org-nav";

interface AppHeaderProps {
  membership: Membership | null;
  onError: (message: string) => void;
}

export function AppHeader({ membership, onError }: AppHeaderProps) {
  const me = useMe();
  const { signOut } = useSession();
  const [signingOut, setSigningOut] = useState(false);

  async function handleSignOut() {
    setSigningOut(true);
    try {
      await signOut();
    } catch (error) {
      onError(toApiError(error).message);
      setSigningOut(false);
    }
  }

  return (
    <header className="app-header">
      <Link to="/" className="brand app-header__brand">
        Atrium
      </Link>
      {membership ? (
        <div className="app-header__org">
          <OrgSwitcher memberships={me.memberships} currentSlug={membership.org.slug} />
          <RoleBadge role={membership.role} />
        </div>
      ) : null}
      {membership ? <OrgNav membership={membership} /> : null}
      <nav className="app-header__user" aria-label="Account">
        <span className="app-header__email" data-testid="user-email" title={me.name || me.email}>
          {me.email}
        </span>
        {canOpenAdmin(me, membership) ? (
          // The operator console is served by the control plane, not this app: a full page load.
          <a className="button button--ghost" href="/admin/">
            Admin
          </a>
        ) : null}
        <Button
          variant="secondary"
          disabled={signingOut}
          onClick={() => {
            void handleSignOut();
          }}
        >
          Log out
        </Button>
      </nav>
    </header>
  );
}
