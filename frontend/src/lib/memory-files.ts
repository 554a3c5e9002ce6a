import { isRecord } from "./is-record";

/**
 * The agent's `/memories/` files live in the store, one item per file: the key is the path
 * (`/notes.md`) and `value.content` the text, as a string or a list of lines.
 */

export function memoryNamespace(userId: number | string): string[] {
  return ["user", String(userId), "memories"];
}

export function memoryContent(value: unknown): string {
  const content = isRecord(value) ? value.content : undefined;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n");
  return "";
}

/** A path shown as the agent sees it: under `/memories/`. */
export function memoryPath(key: string): string {
  return `/memories/${key.replace(/^\/+/, "")}`;
}
