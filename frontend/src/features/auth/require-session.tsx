import { Navigate, Outlet, useLocation } from "react-router";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { Loading } from "../../components/ui/loading";
import { useSession } from "./session-context";

/** Guards every signed-in route: children render only with a known user. */
export function RequireSession() {
  const { session, retry } = useSession();
  const location = useLocation();

  switch (session.status) {
    case "loading":
      return (
        <main className="page-center">
          <Loading />
        </main>
      );
    case "error":
      return (
        <main className="page-center">
          <div className="stack">
            <Alert>{session.error.message}</Alert>
            <Button variant="primary" onClick={retry}>
              Try again
            </Button>
          </div>
        </main>
      );
    case "anonymous": {
      if (session.reason === "signed_out") return <Navigate to="/login" replace />;
      const next = `${location.pathname}${location.search}${location.hash}`;
      const to = next === "/" ? "/login" : `/login?${new URLSearchParams({ next }).toString()}`;
      return <Navigate to={to} replace />;
    }
    case "authenticated":
      return <Outlet />;
  }
}
