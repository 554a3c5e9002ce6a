import { useId } from "react";
import type { AgentAssistant } from "../../api/agent-types";
import { Badge } from "../../components/ui/badge";

interface ChatHeaderProps {
  assistants: readonly AgentAssistant[];
  assistant: AgentAssistant | null;
  /** Choosing is possible only before the first message; a thread keeps its assistant. */
  canChoose: boolean;
  offline: boolean;
  isAdmin: boolean;
  onChoose: (assistantId: string) => void;
}

export function ChatHeader({ assistants, assistant, canChoose, offline, isAdmin, onChoose }: ChatHeaderProps) {
  const id = useId();
  return (
    <div className="chat-header">
      {canChoose ? (
        <div className="chat-header__picker">
          <label className="chat-header__label" htmlFor={id}>
            Assistant
          </label>
          <select
            id={id}
            className="select"
            value={assistant?.assistant_id ?? ""}
            onChange={(event) => {
              onChoose(event.target.value);
            }}
          >
            {assistants.map((option) => (
              <option key={option.assistant_id} value={option.assistant_id}>
                {option.name} ({option.graph_id})
              </option>
            ))}
          </select>
        </div>
      ) : (
        <p className="chat-header__assistant">
          <span className="chat-header__label">Assistant</span>{" "}
          <strong data-testid="thread-assistant">{assistant?.name ?? "Unknown assistant"}</strong>
        </p>
      )}
      {offline ? (
        <Badge tone="accent" data-testid="offline-model" title="Replies come from the built-in offline model: deterministic, no data leaves the server.">
          Offline demo model
        </Badge>
      ) : null}
      {isAdmin ? (
        <a className="chat-header__admin" href="/admin/">
          Manage assistants
        </a>
      ) : null}
    </div>
  );
}
