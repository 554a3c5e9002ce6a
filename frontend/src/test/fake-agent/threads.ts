import { EventLog, type Namespace } from "./events";

/** Threads, checkpoints and runs of the fake Agent Server, kept in memory. */

export type FakeMessage = Record<string, unknown> & { id: string; type: string };

export interface PendingInterrupt {
  id: string;
  value: unknown;
  /** The tool call waiting for the answer. */
  toolCall: { id: string; name: string; args: Record<string, unknown> };
  /** What the agent says once the call is approved and done. */
  approvedAnswer: string;
}

export interface Checkpoint {
  id: string;
  parentId: string | null;
  messages: FakeMessage[];
  next: string[];
  interrupt: PendingInterrupt | null;
  step: number;
  createdAt: string;
}

export interface FakeRun {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  status: "pending" | "running" | "success" | "error" | "interrupted";
  cancelled: boolean;
  created_at: string;
}

export interface FakeThread {
  id: string;
  owner: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  checkpoints: Checkpoint[];
  runs: FakeRun[];
  log: EventLog;
}

let counter = 0;

/** Ids that sort by creation, like the uuid6/uuid7 ids of the real server. */
export function sortableId(): string {
  counter += 1;
  return `00000000-0000-7000-8000-${counter.toString(16).padStart(12, "0")}`;
}

export function now(): string {
  return new Date().toISOString();
}

export function newThread(id: string, owner: string, metadata: Record<string, unknown>): FakeThread {
  const createdAt = now();
  return { id, owner, metadata, createdAt, updatedAt: createdAt, checkpoints: [], runs: [], log: new EventLog(id) };
}

export function head(thread: FakeThread): Checkpoint | null {
  return thread.checkpoints.reduce<Checkpoint | null>((best, checkpoint) => (best === null || checkpoint.id > best.id ? checkpoint : best), null);
}

export function threadStatus(thread: FakeThread): "idle" | "busy" | "interrupted" {
  if (thread.runs.some((run) => run.status === "running" || run.status === "pending")) return "busy";
  return head(thread)?.interrupt ? "interrupted" : "idle";
}

/** Writes a checkpoint and announces it (`checkpoints` then `values`, as the protocol orders them). */
export function addCheckpoint(
  thread: FakeThread,
  parent: Checkpoint | null,
  messages: FakeMessage[],
  options: { next?: string[]; interrupt?: PendingInterrupt | null; namespace?: Namespace } = {},
): Checkpoint {
  const checkpoint: Checkpoint = {
    id: sortableId(),
    parentId: parent?.id ?? null,
    messages,
    next: options.next ?? [],
    interrupt: options.interrupt ?? null,
    step: (parent?.step ?? -2) + 1,
    createdAt: now(),
  };
  thread.checkpoints.push(checkpoint);
  thread.updatedAt = checkpoint.createdAt;
  const namespace = options.namespace ?? [];
  thread.log.append("checkpoints", namespace, { id: checkpoint.id, parent_id: checkpoint.parentId ?? undefined, step: checkpoint.step, source: "loop" });
  thread.log.append("values", namespace, { messages });
  return checkpoint;
}

export function checkpointRef(thread: FakeThread, id: string | null) {
  return id === null ? null : { checkpoint_id: id, thread_id: thread.id, checkpoint_ns: "" };
}

/** `ThreadState` as `GET /state` and `POST /history` return it. */
export function toThreadState(thread: FakeThread, checkpoint: Checkpoint | null) {
  if (!checkpoint) {
    return { values: {}, next: [], tasks: [], metadata: null, created_at: null, checkpoint: null, parent_checkpoint: null, interrupts: [] };
  }
  const interrupts = checkpoint.interrupt ? [{ id: checkpoint.interrupt.id, value: checkpoint.interrupt.value }] : [];
  return {
    values: { messages: checkpoint.messages },
    next: checkpoint.next,
    tasks: checkpoint.interrupt
      ? [{ id: `task-${checkpoint.id}`, name: "tools", path: [], error: null, interrupts, checkpoint: null, state: null, result: null }]
      : [],
    metadata: { step: checkpoint.step, source: "loop", thread_id: thread.id },
    created_at: checkpoint.createdAt,
    checkpoint: checkpointRef(thread, checkpoint.id),
    parent_checkpoint: checkpointRef(thread, checkpoint.parentId),
    interrupts,
  };
}

export function toThreadOut(thread: FakeThread) {
  return {
    thread_id: thread.id,
    created_at: thread.createdAt,
    updated_at: thread.updatedAt,
    state_updated_at: thread.updatedAt,
    metadata: thread.metadata,
    status: threadStatus(thread),
    config: {},
    values: { messages: head(thread)?.messages ?? [] },
    interrupts: {},
  };
}
