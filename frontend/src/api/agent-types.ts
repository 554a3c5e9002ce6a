/**
 * Wire types of the Agent Server API (`/agent`), the LangGraph-compatible surface. Only the fields
 * the web app reads are typed; everything else the server sends is carried along untouched.
 */

export type JsonObject = Record<string, unknown>;

export interface AgentAssistant {
  assistant_id: string;
  graph_id: string;
  name: string;
  description?: string | null;
  config?: JsonObject;
  context?: JsonObject | null;
  metadata?: JsonObject | null;
  version?: number;
  created_at?: string;
  updated_at?: string;
}

export type ThreadStatus = "idle" | "busy" | "interrupted" | "error";

export interface AgentThread {
  thread_id: string;
  created_at: string;
  updated_at: string;
  metadata: JsonObject | null;
  status: ThreadStatus;
}

export interface CheckpointRef {
  checkpoint_id: string;
  checkpoint_ns?: string;
  thread_id?: string;
}

/** One checkpoint of a thread, as `POST /threads/{id}/history` lists them (newest first). */
export interface ThreadStateSnapshot {
  values: JsonObject | unknown[] | null;
  next: string[];
  checkpoint: CheckpointRef | null;
  parent_checkpoint: CheckpointRef | null;
  metadata?: JsonObject | null;
  created_at?: string | null;
}

export interface AgentRun {
  run_id: string;
  thread_id: string;
  status: "pending" | "running" | "error" | "success" | "timeout" | "interrupted";
}

export interface StoreItem {
  namespace: string[];
  key: string;
  value: JsonObject;
  created_at?: string;
  updated_at?: string;
}

export interface StoreSearchOut {
  items: StoreItem[];
}

/** `GET /agent/info`; Atrium adds its own block next to the reference fields. */
export interface AgentInfo {
  version?: string;
  atrium?: { offline_model?: boolean | null; default_model?: string | null } | null;
}
