import type { ReactNode } from "react";
import type { QueryState } from "../api/use-api-query";
import { Alert } from "./ui/alert";
import { Button } from "./ui/button";
import { Loading } from "./ui/loading";

interface QueryViewProps<T> {
  query: QueryState<T> & { reload: () => void };
  /** Read out while the data loads, e.g. "Loading usage…". */
  loadingLabel: string;
  children: (data: T) => ReactNode;
}

/** A loaded value's states, the same on every page: loading, the error with a way to try again, or the data. */
export function QueryView<T>({ query, loadingLabel, children }: QueryViewProps<T>) {
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
  return <>{children(query.data)}</>;
}
