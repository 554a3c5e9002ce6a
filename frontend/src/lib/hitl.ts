import { isRecord } from "./is-record";

/**
 * Human-in-the-loop requests (LangChain's HumanInTheLoopMiddleware): what an interrupted agent
 * wants to do, which answers each action allows, and the resume value that carries the answers.
 * Payloads arrive in snake_case from the server; the SDK may add camelCase aliases. Both are read.
 */

export type DecisionType = "approve" | "edit" | "reject";

export interface ActionRequest {
  name: string;
  args: Record<string, unknown>;
  description: string | null;
  allowed: DecisionType[];
}

export interface HitlRequest {
  actions: ActionRequest[];
}

export type Decision =
  | { type: "approve" }
  | { type: "edit"; edited_action: { name: string; args: Record<string, unknown> } }
  | { type: "reject"; message?: string };

export interface HitlResponse {
  decisions: Decision[];
}

const ALL_DECISIONS: DecisionType[] = ["approve", "edit", "reject"];

function isDecisionType(value: unknown): value is DecisionType {
  return value === "approve" || value === "edit" || value === "reject";
}

function list(value: Record<string, unknown>, snake: string, camel: string): unknown[] | null {
  const raw = value[snake] ?? value[camel];
  return Array.isArray(raw) ? (raw as unknown[]) : null;
}

/** Parses an interrupt value; null when it isn't a HITL request (then it is shown generically). */
export function parseHitlRequest(value: unknown): HitlRequest | null {
  // Older middleware wrapped the request in a one-element list.
  const payload = Array.isArray(value) && value.length === 1 ? (value[0] as unknown) : value;
  if (!isRecord(payload)) return null;
  const requests = list(payload, "action_requests", "actionRequests");
  if (!requests || requests.length === 0) return null;
  const configs = list(payload, "review_configs", "reviewConfigs") ?? [];

  const allowedByName = new Map<string, DecisionType[]>();
  for (const config of configs) {
    if (!isRecord(config)) continue;
    const name = config.action_name ?? config.actionName;
    const allowed = list(config, "allowed_decisions", "allowedDecisions");
    if (typeof name === "string" && allowed) allowedByName.set(name, allowed.filter(isDecisionType));
  }

  const actions: ActionRequest[] = [];
  for (const request of requests) {
    if (!isRecord(request)) return null;
    const name = request.name ?? request.action ?? request.action_name;
    if (typeof name !== "string" || !name) return null;
    const args = request.args ?? request.arguments;
    actions.push({
      name,
      args: isRecord(args) ? args : {},
      description: typeof request.description === "string" && request.description ? request.description : null,
      allowed: allowedByName.get(name) ?? ALL_DECISIONS,
    });
  }
  return { actions };
}

export function approve(): Decision {
  return { type: "approve" };
}

export function edit(action: ActionRequest, args: Record<string, unknown>): Decision {
  return { type: "edit", edited_action: { name: action.name, args } };
}

export function reject(message: string): Decision {
  const trimmed = message.trim();
  return trimmed ? { type: "reject", message: trimmed } : { type: "reject" };
}

/** The resume value, once every action has a decision (in the order of the request). */
export function buildHitlResponse(request: HitlRequest, decisions: readonly (Decision | undefined)[]): HitlResponse | null {
  if (decisions.length !== request.actions.length) return null;
  const complete: Decision[] = [];
  for (const [index, decision] of decisions.entries()) {
    const action = request.actions[index];
    if (!decision || !action?.allowed.includes(decision.type)) return null;
    complete.push(decision);
  }
  return { decisions: complete };
}

/** Parses edited arguments typed by a person: a JSON object, or an explanation of what is wrong. */
export function parseEditedArgs(text: string): { ok: true; args: Record<string, unknown> } | { ok: false; error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isRecord(parsed)) return { ok: false, error: "The arguments must be a JSON object, like {\"path\": \"/notes.md\"}." };
  return { ok: true, args: parsed };
}
