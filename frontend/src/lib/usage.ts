import type { AssistantUsage, BudgetMetric, BudgetStatus } from "../api/usage";

/**
 * Figures of the usage page. Formatting is pinned to one locale so a figure reads the same for
 * every member and in tests; costs are in the price table's currency, which the server does not name.
 */

const TOKENS = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const COST = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 });

export function formatTokens(value: number): string {
  return TOKENS.format(value);
}

/** "—" when no call was of a priced model (the server sends null). */
export function formatCost(value: number | null): string {
  return value === null ? "—" : COST.format(value);
}

export function formatMetric(metric: BudgetMetric, value: number): string {
  return metric === "tokens" ? `${formatTokens(value)} tokens` : formatCost(value);
}

/** What is left of a budget, never below zero; null when its spend is not shown to this member. */
export function budgetLeft(budget: Pick<BudgetStatus, "limit" | "spent">): number | null {
  return budget.spent === null ? null : Math.max(0, budget.limit - budget.spent);
}

/** The share spent, 0–100, for a meter; null when the spend is not shown. */
export function budgetPercent(budget: Pick<BudgetStatus, "limit" | "spent">): number | null {
  if (budget.spent === null) return null;
  if (budget.limit <= 0) return 100;
  return Math.min(100, Math.round((budget.spent / budget.limit) * 100));
}

export function periodName(period: "day" | "month"): string {
  return period === "day" ? "Daily" : "Monthly";
}

export function periodPhrase(period: "day" | "month"): string {
  return period === "day" ? "today" : "this month";
}

/** How a row of usage by assistant is named: a deleted assistant, or usage of none, says so. */
export function assistantUsageName(row: Pick<AssistantUsage, "assistant_id" | "name" | "deleted">): string {
  if (row.deleted) return "(deleted assistant)";
  if (row.assistant_id === null) return "(no assistant)";
  return row.name || "(unnamed assistant)";
}
