import { isRecord } from "./is-record";

/** Titles and other small rules about conversations (threads), independent of any screen. */

export const UNTITLED = "Untitled conversation";
const TITLE_LENGTH = 60;

/** A title from the first message: its first line, cut at a word near 60 characters. */
export function titleFromText(text: string): string {
  const line = text.trim().split("\n")[0]?.replace(/\s+/g, " ").trim() ?? "";
  if (line.length <= TITLE_LENGTH) return line || UNTITLED;
  const cut = line.slice(0, TITLE_LENGTH);
  const space = cut.lastIndexOf(" ");
  return `${(space > TITLE_LENGTH / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function threadTitle(metadata: unknown): string {
  const title = isRecord(metadata) ? metadata.title : undefined;
  return typeof title === "string" && title.trim() ? title.trim() : UNTITLED;
}

/** The assistant a thread was started with; the server records it on the first run. */
export function threadAssistantId(metadata: unknown): string | null {
  if (!isRecord(metadata)) return null;
  const id = metadata.assistant_id;
  return typeof id === "string" && id ? id : null;
}

/** Case- and accent-insensitive title match for the conversation search box. */
export function matchesQuery(title: string, query: string): boolean {
  const fold = (value: string) => value.normalize("NFKD").replace(/\p{M}/gu, "").toLocaleLowerCase();
  const needle = fold(query.trim());
  return needle === "" || fold(title).includes(needle);
}

function isOfflineSpec(model: string): boolean {
  const spec = model.trim().toLowerCase();
  return spec === "offline" || spec.startsWith("offline:");
}

export interface ServerModelInfo {
  /** The model assistants without one of their own run on (`/agent/info` → `atrium.default_model`). */
  default_model?: string | null;
  offline_model?: boolean | null;
}

/**
 * Whether an assistant answers with the built-in offline model: its own `context.model` when it
 * names one, else the server's default from `/agent/info`. With neither known, it is assumed
 * offline, as a fresh install is.
 */
export function runsOfflineModel(context: unknown, server: ServerModelInfo | null | undefined): boolean {
  const own = isRecord(context) && typeof context.model === "string" && context.model.trim() ? context.model : null;
  if (own !== null) return isOfflineSpec(own);
  if (typeof server?.default_model === "string" && server.default_model.trim()) return isOfflineSpec(server.default_model);
  return server?.offline_model !== false;
}
