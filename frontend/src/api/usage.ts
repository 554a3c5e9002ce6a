import { api } from "./client";
import type { Role } from "./types";

/**
 * Model usage and budgets (`atrium.usage`): every member reads their own (`/usage/me`); the org's
 * usage and its budgets are for those who manage the org. Figures are for the current UTC day or
 * month, from `since` on.
 */

export type UsagePeriod = "day" | "month";
export type UsageGroupBy = "user" | "assistant";
export type BudgetMetric = "tokens" | "cost";

export interface UsageTotals {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  total_tokens: number;
  /** Null when no call was of a model the price table names. */
  cost: number | null;
}

export interface ModelUsage extends UsageTotals {
  model: string;
}

/** The member's usage of one assistant. */
export interface AssistantUsage extends UsageTotals {
  /** Null for usage of no assistant. */
  assistant_id: string | null;
  /** "" when the assistant has been deleted, or for usage of none. */
  name: string;
  /** The assistant has been deleted since; its usage still counts. */
  deleted: boolean;
}

/** A budget that applies to the member, with what its period has spent. */
export interface BudgetStatus {
  id: string;
  scope: "org" | "user";
  period: UsagePeriod;
  metric: BudgetMetric;
  limit: number;
  /** The org's spend is shown to its admins only: null for other members. */
  spent: number | null;
  exceeded: boolean;
}

export interface MyUsage {
  period: UsagePeriod;
  since: string;
  totals: UsageTotals;
  by_model: ModelUsage[];
  by_assistant: AssistantUsage[];
  budgets: BudgetStatus[];
}

export interface UsageGroup extends UsageTotals {
  /** The user's or the assistant's id ("" for usage of neither, e.g. a deleted assistant's). */
  key: string;
  /** The user's email or the assistant's name ("" once deleted). */
  label: string;
}

export interface OrgUsage {
  period: UsagePeriod;
  since: string;
  group_by: UsageGroupBy;
  totals: UsageTotals;
  groups: UsageGroup[];
}

/** A budget as an org admin lists them: the org's (`user_id` null) or one member's. */
export interface Budget {
  id: string;
  user_id: number | null;
  user_email: string;
  period: UsagePeriod;
  metric: BudgetMetric;
  limit: number;
  created_at: string;
  updated_at: string;
}

function orgPath(orgSlug: string): string {
  return `/api/v1/orgs/${encodeURIComponent(orgSlug)}`;
}

export function getMyUsage(orgSlug: string, period: UsagePeriod, signal?: AbortSignal): Promise<MyUsage> {
  return api.get<MyUsage>(`${orgPath(orgSlug)}/usage/me?period=${period}`, signal);
}

export function getOrgUsage(orgSlug: string, period: UsagePeriod, groupBy: UsageGroupBy, signal?: AbortSignal): Promise<OrgUsage> {
  return api.get<OrgUsage>(`${orgPath(orgSlug)}/usage?group_by=${groupBy}&period=${period}`, signal);
}

export function listBudgets(orgSlug: string, signal?: AbortSignal): Promise<Budget[]> {
  return api.get<Budget[]>(`${orgPath(orgSlug)}/budgets`, signal);
}

/** What an admin sets: one budget per (member or org, period, metric); setting it again changes its limit. */
export interface BudgetInput {
  /** A member's budget; null: the whole org's. */
  user_id: number | null;
  period: UsagePeriod;
  metric: BudgetMetric;
  /** A decimal string, as typed: the server parses and checks it (no float rounding on the way). */
  limit: string;
}

export function setBudget(orgSlug: string, budget: BudgetInput): Promise<Budget> {
  return api.put<Budget>(`${orgPath(orgSlug)}/budgets`, budget);
}

export function deleteBudget(orgSlug: string, budgetId: string): Promise<void> {
  return api.delete(`${orgPath(orgSlug)}/budgets/${encodeURIComponent(budgetId)}`);
}

/** A member of the org, as the members list names them (for choosing whom a budget limits). */
export interface OrgMember {
  id: string;
  user: { id: number; email: string; name: string };
  role: Role;
}

export function listMembers(orgSlug: string, signal?: AbortSignal): Promise<OrgMember[]> {
  return api.get<OrgMember[]>(`${orgPath(orgSlug)}/members`, signal);
}
