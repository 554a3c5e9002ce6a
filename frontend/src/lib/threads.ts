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

/** The model an assistant runs on is the offline demo model when it says so or says nothing. */
export function isOfflineModel(context: unknown): boolean {
  const model = isRecord(context) ? context.model : undefined;
  if (model === undefined || model === null) return true;
  if (typeof model !== "string") return false;
  const spec = model.trim().toLowerCase();
  return spec === "" || spec === "offline" || spec.startsWith("offline:");
}
