import type { AssistantDetail, AssistantPatch } from "../api/types";
import { isRecord } from "./is-record";

/**
 * The deep agent's per-assistant settings (its `Context`, agents/src/atrium_agents/deep_agent/
 * context.py) as an editable form draft, and back. Inputs hold strings so a half-typed number is
 * kept as typed; the patch carries the whole `context` because the server replaces it, so the
 * fields this form does not edit (retries, memory policy…) are sent back unchanged.
 */

export const SANDBOX_MODES = ["off", "thread", "assistant"] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];
export const PII_STRATEGIES = ["redact", "mask", "hash", "block"] as const;
export type PiiStrategy = (typeof PII_STRATEGIES)[number];

export interface PiiRuleDraft {
  type: string;
  strategy: PiiStrategy;
  /** A regular expression; needed for any type that is not built in. */
  pattern: string;
}

export interface EgressRuleDraft {
  host: string;
  header: string;
  /** May name a workspace secret as `${NAME}`; the proxy fills it in, the sandbox never sees it. */
  value: string;
  tls: boolean;
}

export interface ConnectedApiDraft {
  name: string;
  provider: string;
  base_url: string;
  scopes: string;
}

/** Context keys of the four call limits. Empty means "no limit" (null on the wire). */
export const LIMIT_KEYS = [
  "model_call_limit_per_run",
  "model_call_limit_per_thread",
  "tool_call_limit_per_run",
  "tool_call_limit_per_thread",
] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** The agent's defaults when a key is absent (mirrors `Context`), so the form shows what applies. */
const LIMIT_DEFAULTS: Record<LimitKey, number | null> = {
  model_call_limit_per_run: 25,
  model_call_limit_per_thread: null,
  tool_call_limit_per_run: 50,
  tool_call_limit_per_thread: null,
};

export interface SettingsDraft {
  name: string;
  description: string;
  model: string;
  fallbackModel: string;
  /** Empty: the agent's built-in prompt. */
  systemPrompt: string;
  limits: Record<LimitKey, string>;
  piiRules: PiiRuleDraft[];
  /** Tool names that wait for a person's approval, one per line. */
  interruptOn: string;
  sandbox: SandboxMode;
  egress: EgressRuleDraft[];
  connectedApis: ConnectedApiDraft[];
  /** Names of the org's MCP servers whose tools the assistant gets (`mcp_servers`). */
  mcpServers: string[];
}

function text(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function oneOf<T extends string>(options: readonly T[], value: unknown, fallback: T): T {
  return options.find((option) => option === value) ?? fallback;
}

function limitText(context: Record<string, unknown>, key: LimitKey): string {
  const value = key in context ? context[key] : LIMIT_DEFAULTS[key];
  return typeof value === "number" ? String(value) : "";
}

export function draftFromAssistant(assistant: AssistantDetail): SettingsDraft {
  const context = assistant.context;
  const limits = Object.fromEntries(LIMIT_KEYS.map((key) => [key, limitText(context, key)])) as Record<LimitKey, string>;
  return {
    name: assistant.name,
    description: assistant.description ?? "",
    model: text(context.model) || "offline",
    fallbackModel: text(context.fallback_model),
    systemPrompt: text(context.system_prompt),
    limits,
    piiRules: records(context.pii_rules).map((rule) => ({
      type: text(rule.type),
      strategy: oneOf(PII_STRATEGIES, rule.strategy, "redact"),
      pattern: text(rule.pattern),
    })),
    interruptOn: (Array.isArray(context.interrupt_on) ? context.interrupt_on.map(text) : []).join("\n"),
    sandbox: oneOf(SANDBOX_MODES, context.sandbox, "off"),
    egress: records(context.sandbox_egress).map((rule) => ({
      host: text(rule.host),
      header: text(rule.header),
      value: text(rule.value),
      tls: rule.tls === true,
    })),
    connectedApis: records(context.connected_apis).map((api) => ({
      name: text(api.name),
      provider: text(api.provider),
      base_url: text(api.base_url),
      scopes: text(api.scopes),
    })),
    mcpServers: Array.isArray(context.mcp_servers) ? context.mcp_servers.filter((name): name is string => typeof name === "string") : [],
  };
}

/** "12" → 12; "" → null (no limit). Anything else is sent as typed, for the server to refuse by name. */
function limitValue(raw: string): number | string | null {
  const trimmed = raw.trim();
  if (trimmed === "") return null;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** The context without `key` when `value` is blank (the agent's default applies), else with it. */
function setOrDrop(context: Record<string, unknown>, key: string, value: string): Record<string, unknown> {
  if (value.trim()) return { ...context, [key]: value };
  return Object.fromEntries(Object.entries(context).filter(([name]) => name !== key));
}

export function patchFromDraft(assistant: AssistantDetail, draft: SettingsDraft): AssistantPatch {
  let context: Record<string, unknown> = { ...assistant.context, model: draft.model.trim(), sandbox: draft.sandbox };
  context = setOrDrop(context, "fallback_model", draft.fallbackModel.trim());
  context = setOrDrop(context, "system_prompt", draft.systemPrompt);
  for (const key of LIMIT_KEYS) context[key] = limitValue(draft.limits[key]);
  context.pii_rules = draft.piiRules
    .filter((rule) => rule.type.trim())
    .map((rule) => ({ type: rule.type.trim(), strategy: rule.strategy, ...(rule.pattern ? { pattern: rule.pattern } : {}) }));
  context.interrupt_on = draft.interruptOn
    .split(/[\n,]/)
    .map((name) => name.trim())
    .filter(Boolean);
  context.sandbox_egress = draft.egress
    .filter((rule) => rule.host.trim())
    .map((rule) => ({
      host: rule.host.trim(),
      ...(rule.header.trim() ? { header: rule.header.trim(), value: rule.value } : {}),
      ...(rule.tls ? { tls: true } : {}),
    }));
  context.connected_apis = draft.connectedApis
    .filter((api) => api.name.trim())
    .map((api) => ({ name: api.name.trim(), provider: api.provider.trim(), base_url: api.base_url.trim(), scopes: api.scopes.trim() }));
  context.mcp_servers = [...new Set(draft.mcpServers)];
  return { name: draft.name.trim(), description: draft.description, context };
}

/**
 * Whether the policy approves `host`: an exact name, or a `*.example.com` pattern, which covers the
 * subdomains of example.com but not example.com itself (as `atrium.assistants.policy.host_approved`).
 */
export function hostApproved(host: string, patterns: readonly string[]): boolean {
  const name = host.trim().toLowerCase().replace(/\.$/, "");
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase();
    return pattern.startsWith("*.") ? name.endsWith(pattern.slice(1)) && name !== pattern.slice(2) : name === pattern;
  });
}

/** Egress hosts of the draft that the org's policy does not approve; the server refuses to save them. */
export function hostsOutsidePolicy(egress: readonly EgressRuleDraft[], allowed: readonly string[]): string[] {
  return egress.map((rule) => rule.host.trim()).filter((host) => host && !hostApproved(host, allowed));
}

/** A server the draft names and why saving would be refused: not registered, or disabled by an admin. */
export interface McpServerProblem {
  name: string;
  reason: "unknown" | "disabled";
}

/**
 * The draft's MCP servers the org does not offer: the server saves only names of its enabled
 * servers (`atrium.assistants.policy.policy_violations`), so these would be refused.
 */
export function mcpServersOutsidePolicy(names: readonly string[], servers: readonly { name: string; enabled: boolean }[]): McpServerProblem[] {
  const byName = new Map(servers.map((server) => [server.name, server]));
  return names.flatMap((name): McpServerProblem[] => {
    const server = byName.get(name);
    if (!server) return [{ name, reason: "unknown" }];
    return server.enabled ? [] : [{ name, reason: "disabled" }];
  });
}
