import type { ReactNode } from "react";
import type { QueryState } from "../api/use-api-query";
import { QueryView } from "./query-view";

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
  return (
    <QueryView query={query} loadingLabel={loadingLabel}>
      {(items) => (items.length === 0 ? empty : children(items))}
    </QueryView>
  );
}
