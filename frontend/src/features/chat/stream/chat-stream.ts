import { createContext, useContext } from "react";
import type { AgentFile } from "../../../lib/agent-files";
import type { ChatMessage } from "../../../lib/chat-messages";
import type { Todo } from "../../../lib/todos";

/**
 * What the chat screens need from a streaming runtime, in the app's own terms. One adapter module
 * implements it on top of a LangGraph streaming hook (see `adapter.ts`); screens only ever see
 * this interface, so replacing the hook means writing one new adapter, not touching the screens.
 */

export interface ChatInterrupt {
  /** Null for old-style breakpoints, which carry no id. */
  id: string | null;
  value: unknown;
}

export interface ChatSubagent {
  /** The id of the `task` tool call that started it. */
  id: string;
  name: string;
  status: "running" | "complete" | "error";
  taskInput: string | null;
  output: string | null;
  error: string | null;
}

export interface SendOptions {
  /** Start from this checkpoint instead of the latest one: edits and branch continuations. */
  forkFrom?: string | null;
  /** Files to attach to the thread before the message is sent (the agent reads them in /uploads/). */
  files?: readonly File[];
}

export interface ChatStream {
  threadId: string | null;
  messages: ChatMessage[];
  /** A run is active on the thread (also one this page rejoined after a reload). */
  isLoading: boolean;
  /** The thread's saved state is still being fetched. */
  isThreadLoading: boolean;
  /** A readable message, or null. */
  error: string | null;
  /**
   * The platform's code for why `error` happened, when the server named one (a refused command's
   * `reason`, e.g. `budget_exceeded`): what the screen can offer instead of trying again.
   */
  errorReason: string | null;
  interrupts: ChatInterrupt[];
  /** Subagents by the id of the tool call that started them. */
  subagents: ReadonlyMap<string, ChatSubagent>;
  /** The agent's plan (the `todos` state key its `write_todos` tool keeps), live as it streams. */
  todos: Todo[];
  /** Files the agent keeps in the thread's state (`files`), live as it streams. */
  agentFiles: AgentFile[];
  send: (text: string, options?: SendOptions) => Promise<void>;
  /** Runs the agent again from a checkpoint with no new input: "regenerate this answer". */
  regenerate: (forkFrom: string) => Promise<void>;
  stop: () => Promise<void>;
  respond: (value: unknown, interruptId: string | null) => Promise<void>;
  /** Recovers from `error`: resends, resumes the failed run, or reconnects, as the error requires. */
  retry: () => Promise<void>;
}

/** Callbacks and inputs every adapter accepts. */
export interface ChatStreamProps {
  orgSlug: string;
  assistantId: string;
  threadId: string | null;
  /** A new thread got its id (before the server has it). */
  onThreadId: (threadId: string) => void;
  /** The server accepted a run; `firstText` is set when this was the thread's first message. */
  onRunCreated: (threadId: string, firstText: string | null) => void;
  /** A run ended (any reason); lists and history refresh on this. */
  onRunFinished: () => void;
}

/** Every run is started with this recursion limit: deep agents take many steps. */
export const RECURSION_LIMIT = 1000;

export const ChatStreamContext = createContext<ChatStream | null>(null);

export function useChatStream(): ChatStream {
  const stream = useContext(ChatStreamContext);
  if (!stream) throw new Error("useChatStream must be used inside <ChatStreamProvider>.");
  return stream;
}
