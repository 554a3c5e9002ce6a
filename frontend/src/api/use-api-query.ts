import { useCallback, useEffect, useRef, useState } from "react";
import { isAbortError, toApiError, type ApiError } from "./errors";

export type QueryState<T> =
  | { status: "loading" }
  | { status: "success"; data: T }
  | { status: "error"; error: ApiError };

interface Settled<T> {
  key: string;
  attempt: number;
  state: QueryState<T>;
}

const LOADING = { status: "loading" } as const;

export interface QueryOptions {
  /**
   * While `reload()` fetches again, keep showing the data already loaded for the same key
   * (a list that refreshes in place rather than flashing a spinner). A new key always starts empty.
   */
  keepDataOnReload?: boolean;
}

/**
 * Loads data for `key` and reloads whenever the key changes; `null` means "nothing to load yet".
 * A stale response (the key changed, or the component unmounted) is aborted and never shown,
 * so switching organisations can't flash the previous one's data.
 */
export function useApiQuery<T>(
  key: string | null,
  load: (signal: AbortSignal) => Promise<T>,
  { keepDataOnReload = false }: QueryOptions = {},
): QueryState<T> & { reload: () => void } {
  const loadRef = useRef(load);
  const [attempt, setAttempt] = useState(0);
  const [settled, setSettled] = useState<Settled<T> | null>(null);

  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    if (key === null) return;
    const controller = new AbortController();
    const settle = (state: QueryState<T>) => {
      if (!controller.signal.aborted) setSettled({ key, attempt, state });
    };
    loadRef.current(controller.signal).then(
      (data) => {
        settle({ status: "success", data });
      },
      (error: unknown) => {
        if (!isAbortError(error)) settle({ status: "error", error: toApiError(error) });
      },
    );
    return () => {
      controller.abort();
    };
  }, [key, attempt]);

  const reload = useCallback(() => {
    setAttempt((n) => n + 1);
  }, []);

  const sameKey = settled?.key === key;
  const fresh = sameKey && settled.attempt === attempt;
  const kept = sameKey && keepDataOnReload && settled.state.status === "success";
  const current = settled && (fresh || kept) ? settled.state : LOADING;
  return { ...current, reload };
}
