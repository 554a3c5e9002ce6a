import { useEffect, useRef } from "react";
import type { BranchOption, BranchView } from "../../lib/branches";
import { groupConversation, type ChatMessage } from "../../lib/chat-messages";
import { MessageItem } from "./message-item";
import type { ChatSubagent } from "./stream/chat-stream";

interface ConversationProps {
  messages: ChatMessage[];
  isLoading: boolean;
  interrupted: boolean;
  branches: BranchView | null;
  canChange: boolean;
  subagents: ReadonlyMap<string, ChatSubagent>;
  onEdit: (text: string, forkFrom: string) => void;
  onRegenerate: (forkFrom: string) => void;
  onChooseBranch: (option: BranchOption, index: number) => void;
}

/** Distance from the bottom (px) within which new content keeps the page scrolled to the end. */
const STICKY_BOTTOM = 160;

function nearBottom(): boolean {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - STICKY_BOTTOM;
}

/**
 * The message list. Tokens are not announced one by one (that would flood a screen reader); a
 * status line says when the assistant starts and finishes instead.
 */
export function Conversation({ messages, isLoading, interrupted, branches, canChange, subagents, onEdit, onRegenerate, onChooseBranch }: ConversationProps) {
  const items = groupConversation(messages, { isLoading, interrupted });
  const end = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const onScroll = () => {
      stick.current = nearBottom();
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      window.removeEventListener("scroll", onScroll);
    };
  }, []);

  useEffect(() => {
    // Keep the newest tokens in view while the reader is at the end; leave them alone otherwise.
    if (stick.current) end.current?.scrollIntoView({ block: "end" });
  }, [messages]);

  const last = items.at(-1);
  const thinking = isLoading && !(last?.kind === "ai" && last.message.text);
  return (
    <section className="conversation" aria-label="Conversation">
      <ol className="conversation__list">
        {items.map((item) => (
          <MessageItem
            key={item.message.id}
            item={item}
            branch={branches?.byMessage.get(item.message.id)}
            canChange={canChange}
            subagents={subagents}
            onEdit={onEdit}
            onRegenerate={onRegenerate}
            onChooseBranch={onChooseBranch}
          />
        ))}
      </ol>
      {thinking ? (
        <p className="conversation__thinking" aria-hidden="true">
          <span className="loading__spinner" /> Thinking…
        </p>
      ) : null}
      <p className="visually-hidden" role="status">
        {isLoading ? "The assistant is responding." : items.length > 0 ? "The assistant has finished." : ""}
      </p>
      <div ref={end} />
    </section>
  );
}
