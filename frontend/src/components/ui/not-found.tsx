import { Link } from "react-router";

interface NotFoundProps {
  title?: string;
}

export function NotFound({ title = "Page not found" }: NotFoundProps) {
  return (
    <section className="not-found" aria-labelledby="not-found-title">
      <title>{`${title} · Atrium`}</title>
      <p className="not-found__code">404</p>
      <h1 id="not-found-title" className="not-found__title">
        {title}
      </h1>
      <p>The address may be mistyped, or the page may have moved.</p>
      <Link to="/" className="button button--primary">
        Go to the start page
      </Link>
    </section>
  );
}
