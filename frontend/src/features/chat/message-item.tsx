import { useState } from "react";
import { Markdown } from "../../components/ui/markdown";
import type { BranchOption, MessageBranchInfo } from "../../lib/branches";
import type { ConversationItem } from "../../lib/chat-messages";
import { BranchSwitcher } from "./branch-switcher";
import { MessageEditor } from "./message-editor";
import type { ChatSubagent } from "./stream/chat-stream";
import { ToolCallCard } from "./tool-call-card";

interface MessageItemProps {
  item: ConversationItem;
  branch: MessageBranchInfo | undefined;
  /** Editing, regenerating and switching versions are offered (idle thread, a member who may chat). */
  canChange: boolean;
  subagents: ReadonlyMap<string, ChatSubagent>;
  onEdit: (text: string, forkFrom: string) => void;
  onRegenerate: (forkFrom: string) => void;
  onChooseBranch: (option: BranchOption, index: number) => void;
}

export function MessageItem({ item, branch, canChange, subagents, onEdit, onRegenerate, onChooseBranch }: MessageItemProps) {
  const [editing, setEditing] = useState(false);
  const { message } = item;
  const forkFrom = branch?.forkFrom ?? null;
  const switcher = branch?.option ? (
    <BranchSwitcher
      option={branch.option}
      disabled={!canChange}
      onChoose={(index) => {
        if (branch.option) onChooseBranch(branch.option, index);
      }}
    />
  ) : null;

  if (item.kind === "human") {
    return (
      <li className="message message--human" data-testid="message-human">
        <h3 className="visually-hidden">You said</h3>
        {editing && forkFrom ? (
          <MessageEditor
            initialText={message.text}
            onCancel={() => {
              setEditing(false);
            }}
            onSave={(text) => {
              setEditing(false);
              onEdit(text, forkFrom);
            }}
          />
        ) : (
          <div className="message__bubble">
            <p className="message__plain">{message.text}</p>
          </div>
        )}
        <div className="message__actions">
          {switcher}
          {canChange && forkFrom && !editing ? (
            <button
              type="button"
              className="link-button"
              aria-label="Edit this message"
              onClick={() => {
                setEditing(true);
              }}
            >
              Edit
            </button>
          ) : null}
        </div>
      </li>
    );
  }

  if (item.kind === "tool") {
    return (
      <li className="message message--tool">
        <p className="muted">
          Result from <code>{message.name ?? "a tool"}</code>
        </p>
        <pre className="code-block">{message.text}</pre>
      </li>
    );
  }

  return (
    <li className="message message--ai" data-testid="message-ai">
      <h3 className="visually-hidden">Assistant said</h3>
      {message.text ? <Markdown text={message.text} /> : null}
      {item.toolCalls.length > 0 ? (
        <div className="message__tools">
          {item.toolCalls.map((view, index) => (
            <ToolCallCard key={view.call.id || `${view.call.name}-${index}`} view={view} subagent={subagents.get(view.call.id)} />
          ))}
        </div>
      ) : null}
      <div className="message__actions">
        {switcher}
        {canChange && forkFrom && item.turnEnd ? (
          <button
            type="button"
            className="link-button"
            aria-label="Regenerate this answer"
            onClick={() => {
              onRegenerate(forkFrom);
            }}
          >
            Regenerate
          </button>
        ) : null}
      </div>
    </li>
  );
}
