import { useEffect, useState } from "react";
import { getMyUsage } from "../../api/usage";

/**
 * Whether a budget the member is held to (their own or the org's) is spent, asked once per `error`
 * (null: not asked). A run refused up front says why (`errorReason`), but one that fails mid-way
 * carries only its message; while a budget is spent, trying again would be refused, so the chat
 * points to the Usage page instead. Unknown (the request fails): false, and Try again stays.
 */
export function useBudgetSpent(orgSlug: string, error: string | null): boolean {
  const [answer, setAnswer] = useState<{ error: string; spent: boolean } | null>(null);
  useEffect(() => {
    if (error === null) return undefined;
    const controller = new AbortController();
    getMyUsage(orgSlug, "day", controller.signal)
      .then((usage) => {
        setAnswer({ error, spent: usage.budgets.some((budget) => budget.exceeded) });
      })
      .catch(() => {
        setAnswer({ error, spent: false });
      });
    return () => {
      controller.abort();
    };
  }, [orgSlug, error]);
  return error !== null && answer?.error === error && answer.spent;
}
