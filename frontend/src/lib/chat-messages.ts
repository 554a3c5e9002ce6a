import { isRecord } from "./is-record";

/**
 * The chat's own message shape, and the grouping that turns a flat LangGraph message list into
 * what the screen shows: human turns, assistant turns with their tool calls (each paired with its
 * result), and nothing else. Messages come in two forms, `@langchain/core` class instances from
 * the streaming hook and plain dicts from thread history; both are read by duck typing here.
 */

export type ChatRole = "human" | "ai" | "tool" | "system";

export interface ChatToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

export interface ChatMessage {
  id: string;
  role: ChatRole;
  text: string;
  toolCalls: ChatToolCall[];
  /** On a tool result: the call it answers. */
  toolCallId?: string;
  /** On a tool result: the tool's name. */
  name?: string;
  /** On a tool result: whether the tool failed. */
  failed?: boolean;
}

const ROLE_ALIASES: Record<string, ChatRole> = {
  human: "human",
  user: "human",
  humanmessage: "human",
  humanmessagechunk: "human",
  ai: "ai",
  assistant: "ai",
  aimessage: "ai",
  aimessagechunk: "ai",
  tool: "tool",
  toolmessage: "tool",
  toolmessagechunk: "tool",
  system: "system",
  systemmessage: "system",
  developer: "system",
};

function roleOf(message: Record<string, unknown>): ChatRole | null {
  const raw = typeof message.type === "string" ? message.type : typeof message.role === "string" ? message.role : "";
  return ROLE_ALIASES[raw.toLowerCase()] ?? null;
}

/** The readable text of a message's content: a string, or the text blocks of a block list. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block: unknown) => {
      if (typeof block === "string") return block;
      if (isRecord(block) && (block.type === "text" || block.type === undefined) && typeof block.text === "string") return block.text;
      return "";
    })
    .join("");
}

function parseArgs(value: unknown): Record<string, unknown> {
  if (isRecord(value)) return value;
  if (typeof value === "string" && value.trim()) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isRecord(parsed)) return parsed;
    } catch {
      // Partial JSON while a call is still streaming in.
    }
  }
  return {};
}

function toolCallsOf(message: Record<string, unknown>): ChatToolCall[] {
  const fromField = Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]) : [];
  const fromBlocks = Array.isArray(message.content)
    ? (message.content as unknown[]).filter((block) => isRecord(block) && (block.type === "tool_call" || block.type === "tool_use"))
    : [];
  const seen = new Set<string>();
  const calls: ChatToolCall[] = [];
  for (const raw of [...fromField, ...fromBlocks]) {
    if (!isRecord(raw)) continue;
    const id = typeof raw.id === "string" ? raw.id : "";
    const name = typeof raw.name === "string" ? raw.name : "";
    if (!name || (id && seen.has(id))) continue;
    if (id) seen.add(id);
    calls.push({ id, name, args: parseArgs(raw.args ?? raw.input) });
  }
  return calls;
}

/** Reads one message of either form; returns null for anything that is not a chat message. */
export function toChatMessage(raw: unknown, fallbackId: string): ChatMessage | null {
  if (!isRecord(raw)) return null;
  const role = roleOf(raw);
  if (!role) return null;
  const message: ChatMessage = {
    id: typeof raw.id === "string" && raw.id ? raw.id : fallbackId,
    role,
    text: contentText(raw.content),
    toolCalls: role === "ai" ? toolCallsOf(raw) : [],
  };
  if (role === "tool") {
    if (typeof raw.tool_call_id === "string") message.toolCallId = raw.tool_call_id;
    if (typeof raw.name === "string" && raw.name) message.name = raw.name;
    message.failed = raw.status === "error";
  }
  return message;
}

export function toChatMessages(raw: readonly unknown[]): ChatMessage[] {
  return raw.flatMap((item, index) => toChatMessage(item, `message-${index}`) ?? []);
}

/** The `messages` list of a state's values, whatever shape the values have. */
export function messagesOfValues(values: unknown): unknown[] {
  if (isRecord(values) && Array.isArray(values.messages)) return values.messages as unknown[];
  return [];
}

export type ToolCallStatus = "running" | "approval" | "waiting" | "done" | "failed";

export interface ToolCallView {
  call: ChatToolCall;
  result: ChatMessage | null;
  status: ToolCallStatus;
}

export type ConversationItem =
  | { kind: "human"; message: ChatMessage }
  /** `turnEnd`: the last assistant message before the next human one (the answer of the turn). */
  | { kind: "ai"; message: ChatMessage; toolCalls: ToolCallView[]; turnEnd: boolean }
  | { kind: "tool"; message: ChatMessage };

export interface GroupOptions {
  /** A run is in progress: calls without a result are still running. */
  isLoading: boolean;
  /** The run stopped for a human decision: calls without a result wait for it. */
  interrupted?: boolean;
}

/**
 * Pairs every tool call with its result and drops what the reader doesn't need: system prompts,
 * tool results already shown under their call, and empty assistant messages (a model turn that
 * only called tools shows as its tool calls).
 */
export function groupConversation(messages: readonly ChatMessage[], { isLoading, interrupted = false }: GroupOptions): ConversationItem[] {
  const results = new Map<string, ChatMessage>();
  for (const message of messages) {
    if (message.role === "tool" && message.toolCallId) results.set(message.toolCallId, message);
  }
  const claimed = new Set<string>();
  const items: ConversationItem[] = [];
  for (const message of messages) {
    if (message.role === "human") {
      items.push({ kind: "human", message });
    } else if (message.role === "ai") {
      const toolCalls = message.toolCalls.map((call): ToolCallView => {
        const result = call.id ? (results.get(call.id) ?? null) : null;
        if (result) claimed.add(call.id);
        const status: ToolCallStatus = result ? (result.failed ? "failed" : "done") : isLoading ? "running" : interrupted ? "approval" : "waiting";
        return { call, result, status };
      });
      if (message.text.trim() || toolCalls.length > 0) items.push({ kind: "ai", message, toolCalls, turnEnd: false });
    } else if (message.role === "tool" && !(message.toolCallId && claimed.has(message.toolCallId))) {
      items.push({ kind: "tool", message });
    }
  }
  let answered = false;
  for (let index = items.length - 1; index >= 0; index -= 1) {
    const item = items[index];
    if (item?.kind === "human") answered = false;
    else if (item?.kind === "ai" && !answered) {
      items[index] = { ...item, turnEnd: true };
      answered = true;
    }
  }
  return items;
}
