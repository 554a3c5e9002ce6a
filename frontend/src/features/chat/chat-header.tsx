import { useId } from "react";
import { Link } from "react-router";
import type { AgentAssistant } from "../../api/agent-types";
import { Badge } from "../../components/ui/badge";

interface ChatHeaderProps {
  assistants: readonly AgentAssistant[];
  assistant: AgentAssistant | null;
  /** Choosing is possible only before the first message; a thread keeps its assistant. */
  canChoose: boolean;
  offline: boolean;
  /** The assistant's settings page, for those who may configure agents; null hides the link. */
  settingsHref: string | null;
  onChoose: (assistantId: string) => void;
}

export function ChatHeader({ assistants, assistant, canChoose, offline, settingsHref, onChoose }: ChatHeaderProps) {
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
      {settingsHref ? (
        <Link className="chat-header__admin" to={settingsHref}>
          Assistant settings
        </Link>
      ) : null}
    </div>
  );
}
