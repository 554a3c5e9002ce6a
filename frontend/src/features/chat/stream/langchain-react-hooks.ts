import { useMessages, type AnyStream } from "@langchain/react";
import { createContext, useContext, useMemo } from "react";
import { toChatMessages, type ChatMessage } from "../../../lib/chat-messages";

/** The hook's own handle, for selector hooks that need it; filled by `AdapterStreamProvider`. */
export const RawStreamContext = createContext<AnyStream | null>(null);

/** The messages a subagent produces, live while it works. Subscribes only while mounted. */
export function useSubagentMessages(subagentId: string): ChatMessage[] {
  const stream = useContext(RawStreamContext);
  if (!stream) throw new Error("useSubagentMessages must be used inside <ChatStreamProvider>.");
  const snapshot = stream.subagents.get(subagentId);
  const raw = useMessages(stream, snapshot ?? null);
  return useMemo(() => (snapshot ? toChatMessages(raw) : []), [snapshot, raw]);
}
