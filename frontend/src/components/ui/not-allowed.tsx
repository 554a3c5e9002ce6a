import { Link } from "react-router";

interface NotAllowedProps {
  title: string;
  children: string;
  /** Where "Back" leads, e.g. the organisation's start page. */
  backTo: string;
}

/** A page the member's permissions do not cover: says so plainly, instead of a broken form. */
export function NotAllowed({ title, children, backTo }: NotAllowedProps) {
  return (
    <section className="not-found" aria-labelledby="not-allowed-title" data-testid="not-allowed">
      <title>{`${title} · Atrium`}</title>
      <h1 id="not-allowed-title" className="not-found__title">
        {title}
      </h1>
      <p>{children}</p>
      <Link to={backTo} className="button button--primary">
        Back
      </Link>
    </section>
  );
}
