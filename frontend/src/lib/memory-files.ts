import { isRecord } from "./is-record";

/**
 * The agent's `/memories/` files live in the store, one item per file: the key is the path
 * (`/notes.md`) and `value.content` the text, as a string or a list of lines.
 */

/**
 * Where a user's memory files may be. The deep agent keeps them under its org-prefixed layout
 * (`["org", <org id>, "user", <user id>, "memories"]`); the plain `["user", <user id>, "memories"]`
 * is also read, so files written by a graph that uses the short form show up too.
 */
export function memoryNamespaces(userId: number | string, orgId: string): string[][] {
  return [
    ["org", orgId, "user", String(userId), "memories"],
    ["user", String(userId), "memories"],
  ];
}

/** One list from several searches, each file once (the first namespace wins), sorted by path. */
export function mergeMemoryItems<T extends { namespace: string[]; key: string }>(lists: readonly (readonly T[])[]): T[] {
  const byKey = new Map<string, T>();
  for (const list of lists) {
    for (const item of list) {
      const id = `${item.namespace.join("/")}|${item.key}`;
      if (!byKey.has(id)) byKey.set(id, item);
    }
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
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
