import { useState } from "react";
import { Markdown } from "../../components/ui/markdown";
import type { ChatSubagent } from "./stream/chat-stream";
import { useSubagentMessages } from "./stream/adapter";

const STATUS_LABEL = { running: "Working…", complete: "Finished", error: "Failed" } as const;

/** The subagent's own messages, subscribed to only while the card is open. */
function SubagentMessages({ subagentId }: { subagentId: string }) {
  const messages = useSubagentMessages(subagentId).filter((message) => message.role === "ai" && (message.text || message.toolCalls.length > 0));
  if (messages.length === 0) return <p className="muted">No messages yet.</p>;
  return (
    <ol className="subagent__messages">
      {messages.map((message) => (
        <li key={message.id}>
          {message.text ? <Markdown text={message.text} /> : null}
          {message.toolCalls.map((call) => (
            <p key={call.id || call.name} className="muted">
              Called <code>{call.name}</code>
            </p>
          ))}
        </li>
      ))}
    </ol>
  );
}

export function SubagentCard({ subagent }: { subagent: ChatSubagent }) {
  const [open, setOpen] = useState(false);
  return (
    <section className="subagent" aria-label={`Subagent ${subagent.name}`} data-testid="subagent" data-status={subagent.status}>
      <div className="subagent__header">
        <span className="subagent__name">{subagent.name}</span>
        <span className={`subagent__status subagent__status--${subagent.status}`} role="status">
          {subagent.status === "running" ? <span className="loading__spinner" aria-hidden="true" /> : null}
          {STATUS_LABEL[subagent.status]}
        </span>
      </div>
      {subagent.taskInput ? <p className="subagent__task">{subagent.taskInput}</p> : null}
      {subagent.error ? <p className="subagent__error">{subagent.error}</p> : null}
      <button
        type="button"
        className="link-button"
        aria-expanded={open}
        onClick={() => {
          setOpen((value) => !value);
        }}
      >
        {open ? "Hide the subagent's work" : "Show the subagent's work"}
      </button>
      {open ? <SubagentMessages subagentId={subagent.id} /> : null}
      {subagent.output && subagent.status !== "running" ? (
        <details className="subagent__output">
          <summary>Report</summary>
          <Markdown text={subagent.output} />
        </details>
      ) : null}
    </section>
  );
}
