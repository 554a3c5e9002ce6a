import type { ReactNode } from "react";
import type { QueryState } from "../api/use-api-query";
import { Alert } from "./ui/alert";
import { Button } from "./ui/button";
import { Loading } from "./ui/loading";

interface QueryListProps<T> {
  query: QueryState<T[]> & { reload: () => void };
  /** Read out while the list loads, e.g. "Loading memory…". */
  loadingLabel: string;
  /** Shown when the list loaded and has nothing in it. */
  empty: ReactNode;
  children: (items: T[]) => ReactNode;
}

/** A loaded list's states, the same on every page: loading, the error with a way to try again, the
 * empty state, or the items. */
export function QueryList<T>({ query, loadingLabel, empty, children }: QueryListProps<T>) {
  if (query.status === "loading") return <Loading label={loadingLabel} />;
  if (query.status === "error") {
    return (
      <div className="stack">
        <Alert>{query.error.message}</Alert>
        <div>
          <Button onClick={query.reload}>Try again</Button>
        </div>
      </div>
    );
  }
  if (query.data.length === 0) return <>{empty}</>;
  return <>{children(query.data)}</>;
}
