import { useState, type ReactNode } from "react";
import type { Membership } from "../../api/types";
import { Alert } from "../../components/ui/alert";
import { AppHeader } from "./app-header";

interface AppShellProps {
  membership: Membership | null;
  children: ReactNode;
}

/** The frame around every signed-in screen: header on top, the screen's content below. */
export function AppShell({ membership, children }: AppShellProps) {
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader membership={membership} onError={setError} />
      <main id="main" className="app-main" tabIndex={-1}>
        {error ? <Alert>{error}</Alert> : null}
        {children}
      </main>
    </div>
  );
}
