interface LoadingProps {
  label?: string;
}

/** A polite live region, so screen readers hear that something is on its way. */
export function Loading({ label = "Loading…" }: LoadingProps) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="loading__spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
