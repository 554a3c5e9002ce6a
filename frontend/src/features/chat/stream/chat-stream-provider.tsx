import { useState, type ReactNode } from "react";
import { AdapterStreamProvider } from "./adapter";
import type { ChatStreamProps } from "./chat-stream";

interface Session {
  /** Remounts the adapter when it changes: a fresh stream for another thread, or a reconnect. */
  generation: number;
  /** The thread the adapter was mounted for (null: a new chat). It never changes during a mount. */
  threadId: string | null;
  /** The id the adapter gave a new chat, which the URL then follows. */
  minted: string | null;
  /** The `threadId` prop last seen, to tell a navigation from the URL catching up. */
  seen: string | null;
}

/**
 * Provides the `ChatStream` for the thread in the URL to everything below it.
 *
 * Each mount of the adapter serves one thread and is never re-pointed: the streaming hook mints a
 * new chat's id itself and runs the first message at once, so feeding that id back to it through
 * the URL would make it re-read the thread mid-run. Opening another thread, starting a new chat,
 * or reconnecting after a lost stream (`onReload`) mounts a fresh adapter instead.
 */
export function ChatStreamProvider({ children, threadId, onThreadId, ...props }: ChatStreamProps & { children: ReactNode }) {
  const [session, setSession] = useState<Session>({ generation: 0, threadId, minted: null, seen: threadId });
  let current = session;
  if (threadId !== session.seen) {
    // The URL changed. Following the id this mount gave its new chat keeps the stream; any other
    // change opens another thread (derived during render, so no frame shows the old one).
    current =
      threadId !== null && threadId === session.minted
        ? { ...session, seen: threadId }
        : { generation: session.generation + 1, threadId, minted: null, seen: threadId };
    setSession(current);
  }
  return (
    <AdapterStreamProvider
      key={current.generation}
      {...props}
      threadId={current.threadId}
      onThreadId={(id) => {
        setSession((previous) => ({ ...previous, minted: id }));
        onThreadId(id);
      }}
      onReload={() => {
        setSession((previous) => ({ ...previous, generation: previous.generation + 1, threadId: previous.minted ?? previous.threadId, minted: null }));
      }}
    >
      {children}
    </AdapterStreamProvider>
  );
}
