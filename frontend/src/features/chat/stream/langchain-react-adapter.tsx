import { useStream, type SubagentDiscoverySnapshot } from "@langchain/react";
import { useCallback, useEffect, useMemo, useRef, type ReactNode } from "react";
import { cancelActiveRuns } from "../../../api/agent";
import { agentFetch, createAgentClient } from "../../../api/agent-client";
import { uploadThreadFiles } from "../../../api/thread-files";
import { agentFilesFromValues } from "../../../lib/agent-files";
import { contentText, toChatMessages } from "../../../lib/chat-messages";
import { isRecord } from "../../../lib/is-record";
import { todosFromArgs } from "../../../lib/todos";
import {
  ChatStreamContext,
  RECURSION_LIMIT,
  type ChatStream,
  type ChatStreamProps,
  type ChatSubagent,
  type SendOptions,
} from "./chat-stream";
import { RawStreamContext } from "./langchain-react-hooks";

/**
 * The `ChatStream` implemented with `useStream` from `@langchain/react` (v1), which speaks the
 * thread-scoped v2 protocol: `run.start` / `input.respond` on `/threads/{id}/commands`, and
 * filtered, replayable event streams on `/threads/{id}/stream/events`. Reconnecting after a reload
 * or a dropped connection is the hook's own (hydrate, then replay deduplicated by event id).
 */

/** The SDK backs off up to ~5 s between attempts; this keeps a run alive through ~2 minutes offline. */
const MAX_RECONNECT_ATTEMPTS = 30;

interface AdapterProps extends ChatStreamProps {
  /** Remounts the adapter: a fresh hydrate, which rejoins an active run. */
  onReload: () => void;
  children: ReactNode;
}

interface Tracking {
  threadId: string | null;
  /** Text whose run the server has not confirmed yet; resent by retry if starting it failed. */
  pendingText: string | null;
  pendingFork: string | null;
  /** The thread was created by this page and has not had a run accepted yet. */
  newThread: boolean;
  /** The hook knows the active run's id, so its own stop() cancels it. */
  runKnown: boolean;
  lastRunFailed: boolean;
}

function errorMessage(error: unknown): string | null {
  if (error === undefined || error === null) return null;
  if (error instanceof Error) return error.message || "Something went wrong.";
  if (typeof error === "string") return error || "Something went wrong.";
  if (isRecord(error) && typeof error.message === "string") return error.message;
  return "Something went wrong.";
}

/** A refused command's `reason` (the server's extension of the protocol's error envelope, which the
 * SDK's `ProtocolError` keeps as `response`), or null. */
function errorReason(error: unknown): string | null {
  if (!isRecord(error) || !isRecord(error.response)) return null;
  const reason = error.response.reason;
  return typeof reason === "string" && reason ? reason : null;
}

function outputText(output: unknown): string | null {
  if (output === undefined || output === null) return null;
  if (typeof output === "string") return output;
  if (isRecord(output) && "content" in output) return contentText(output.content);
  return JSON.stringify(output);
}

function toSubagent(snapshot: SubagentDiscoverySnapshot): ChatSubagent {
  return {
    id: snapshot.id,
    name: snapshot.name,
    status: snapshot.status,
    taskInput: snapshot.taskInput ?? null,
    output: outputText(snapshot.output),
    error: snapshot.error ?? null,
  };
}

export function AdapterStreamProvider({ orgSlug, assistantId, threadId, onReload, children, ...callbacks }: AdapterProps) {
  const client = useMemo(() => createAgentClient(orgSlug), [orgSlug]);
  const latest = useRef({ ...callbacks, onReload });
  const track = useRef<Tracking>({
    threadId,
    pendingText: null,
    pendingFork: null,
    newThread: false,
    runKnown: false,
    lastRunFailed: false,
  });
  useEffect(() => {
    latest.current = { ...callbacks, onReload };
  });

  const stream = useStream({
    client,
    assistantId,
    threadId,
    fetch: agentFetch,
    maxReconnectAttempts: MAX_RECONNECT_ATTEMPTS,
    onThreadId: (id) => {
      Object.assign(track.current, { threadId: id, newThread: true });
      latest.current.onThreadId(id);
    },
    onCreated: () => {
      const state = track.current;
      const firstText = state.newThread ? state.pendingText : null;
      Object.assign(state, { pendingText: null, pendingFork: null, newThread: false, runKnown: true });
      if (state.threadId) latest.current.onRunCreated(state.threadId, firstText);
    },
    onCompleted: ({ reason }) => {
      Object.assign(track.current, { runKnown: false, lastRunFailed: reason === "error" });
    },
  });

  useEffect(() => {
    track.current.threadId = stream.threadId;
  }, [stream.threadId]);

  // Lists and history refresh when a run ends, whoever started it (this page, a rejoin, a resume).
  const wasLoading = useRef(false);
  useEffect(() => {
    if (wasLoading.current && !stream.isLoading) latest.current.onRunFinished();
    wasLoading.current = stream.isLoading;
  }, [stream.isLoading]);

  const send = useCallback(
    async (text: string, options: SendOptions = {}) => {
      const files = options.files ?? [];
      let minted: string | null = null;
      if (files.length > 0) {
        // Files go to a thread, so a new conversation gets its thread before its first run.
        let target = track.current.threadId ?? stream.threadId;
        if (!target) {
          target = (await client.threads.create({ threadId: crypto.randomUUID() })).thread_id;
          minted = target;
        }
        await uploadThreadFiles(orgSlug, target, files);
        if (minted) {
          Object.assign(track.current, { threadId: minted, newThread: true });
          latest.current.onThreadId(minted);
        }
      }
      Object.assign(track.current, { pendingText: text, pendingFork: options.forkFrom ?? null, lastRunFailed: false });
      await stream.submit(
        { messages: [{ type: "human", content: text }] },
        {
          config: { recursion_limit: RECURSION_LIMIT },
          ...(options.forkFrom ? { forkFrom: options.forkFrom } : {}),
          ...(minted ? { threadId: minted } : {}),
        },
      );
    },
    [stream, client, orgSlug],
  );

  const regenerate = useCallback(
    async (forkFrom: string) => {
      track.current.lastRunFailed = false;
      await stream.submit(null, { config: { recursion_limit: RECURSION_LIMIT }, forkFrom });
    },
    [stream],
  );

  const stop = useCallback(async () => {
    const { runKnown, threadId: current } = track.current;
    await stream.stop();
    // A rejoined or resumed run is unknown to the hook, which would only disconnect from it.
    if (!runKnown && current) await cancelActiveRuns(orgSlug, current);
  }, [stream, orgSlug]);

  const respond = useCallback(
    async (value: unknown, interruptId: string | null) => {
      track.current.lastRunFailed = false;
      await stream.respond(value, interruptId ? { interruptId } : {});
    },
    [stream],
  );

  const retry = useCallback(async () => {
    const { pendingText, pendingFork, lastRunFailed } = track.current;
    if (pendingText !== null) {
      await send(pendingText, { forkFrom: pendingFork });
    } else if (lastRunFailed) {
      // Continue from the last checkpoint: LangGraph re-runs the step that failed.
      track.current.lastRunFailed = false;
      await stream.submit(null, { config: { recursion_limit: RECURSION_LIMIT } });
    } else {
      latest.current.onReload();
    }
  }, [send, stream]);

  // Back online after a dropped connection: rejoin instead of waiting for the user.
  const error = errorMessage(stream.error);
  const reason = error ? errorReason(stream.error) : null;
  useEffect(() => {
    if (!error) return;
    const rejoin = () => {
      if (track.current.pendingText === null && !track.current.lastRunFailed) latest.current.onReload();
    };
    window.addEventListener("online", rejoin);
    return () => {
      window.removeEventListener("online", rejoin);
    };
  }, [error]);

  const messages = useMemo(() => toChatMessages(stream.messages), [stream.messages]);
  const subagents = useMemo(
    () => new Map([...stream.subagents.values()].map((snapshot) => [snapshot.id, toSubagent(snapshot)])),
    [stream.subagents],
  );
  const values: unknown = stream.values;
  const todos = useMemo(() => (isRecord(values) ? (todosFromArgs(values) ?? []) : []), [values]);
  const agentFiles = useMemo(() => agentFilesFromValues(values), [values]);
  const interrupts = useMemo(
    () => stream.interrupts.map((interrupt) => ({ id: interrupt.id ?? null, value: interrupt.value })),
    [stream.interrupts],
  );

  const value = useMemo<ChatStream>(
    () => ({
      threadId: stream.threadId,
      messages,
      isLoading: stream.isLoading,
      isThreadLoading: stream.isThreadLoading,
      error,
      errorReason: reason,
      interrupts,
      subagents,
      todos,
      agentFiles,
      send,
      regenerate,
      stop,
      respond,
      retry,
    }),
    [stream.threadId, stream.isLoading, stream.isThreadLoading, messages, error, reason, interrupts, subagents, todos, agentFiles, send, regenerate, stop, respond, retry],
  );

  return (
    <RawStreamContext value={stream}>
      <ChatStreamContext value={value}>{children}</ChatStreamContext>
    </RawStreamContext>
  );
}
