import { isRouteErrorResponse, useRouteError } from "react-router";
import { NotFound } from "../components/ui/not-found";

/** Last line of defence for a screen that throws while rendering. */
export function RouteErrorPage() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <main className="page-center">
        <NotFound />
      </main>
    );
  }
  return (
    <main className="page-center">
      <section className="not-found" aria-labelledby="route-error-title">
        <title>Something went wrong · Atrium</title>
        <h1 id="route-error-title" className="not-found__title">
          Something went wrong
        </h1>
        <p>The page could not be shown. Reloading usually helps.</p>
        <a className="button button--primary" href="/">
          Reload the app
        </a>
      </section>
    </main>
  );
}
