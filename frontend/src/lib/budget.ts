import { isRecord } from "./is-record";

/** A run paused because a budget of the org or of the member is spent (`atrium_agents.deep_agent.budget`). */
export interface BudgetPause {
  message: string;
  scope: "org" | "member";
  period: "day" | "month";
}

/** The budget pause an interrupt carries, or null. The message is the platform's public one. */
export function parseBudgetPause(value: unknown): BudgetPause | null {
  if (!isRecord(value) || value.type !== "budget_exceeded") return null;
  const scope = value.scope === "org" ? "org" : "member";
  const period = value.period === "month" ? "month" : "day";
  const fallback = `A ${period === "day" ? "daily" : "monthly"} model usage budget is spent.`;
  const message = typeof value.message === "string" && value.message ? value.message : fallback;
  return { message, scope, period };
}
