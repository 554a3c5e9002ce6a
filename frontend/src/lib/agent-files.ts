import { isRecord } from "./is-record";

/** A file the deep agent keeps in the thread's state (`files`, when it has no sandbox). */
export interface AgentFile {
  path: string;
  content: string;
  encoding: "utf-8" | "base64";
}

/**
 * The agent's files in a thread's state values, by path; entries that are not files are dropped.
 * deepagents stores text as one string (older versions: a list of lines) and binary as base64.
 */
export function agentFilesFromValues(values: unknown): AgentFile[] {
  if (!isRecord(values) || !isRecord(values.files)) return [];
  const files: AgentFile[] = [];
  for (const [path, data] of Object.entries(values.files)) {
    if (!isRecord(data)) continue;
    const raw = data.content;
    const content = typeof raw === "string" ? raw : Array.isArray(raw) ? raw.filter((line) => typeof line === "string").join("\n") : null;
    if (content === null) continue;
    files.push({ path, content, encoding: data.encoding === "base64" ? "base64" : "utf-8" });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The file's bytes, for a download. */
export function agentFileBlob(file: AgentFile): Blob {
  if (file.encoding === "utf-8") return new Blob([file.content], { type: "text/plain;charset=utf-8" });
  const binary = atob(file.content);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new Blob([bytes], { type: "application/octet-stream" });
}

/** The size of the file in bytes. */
export function agentFileSize(file: AgentFile): number {
  return file.encoding === "utf-8" ? new TextEncoder().encode(file.content).length : Math.floor((file.content.length * 3) / 4);
}
