import { Link } from "react-router";
import type { Assistant } from "../../api/types";
import { formatDate } from "../../lib/format-date";

interface AssistantCardProps {
  assistant: Assistant;
  orgSlug: string;
  /** Viewers open existing conversations from Chat; they get no button to start one. */
  canChat: boolean;
  canConfigure: boolean;
}

export function AssistantCard({ assistant, orgSlug, canChat, canConfigure }: AssistantCardProps) {
  const base = `/o/${encodeURIComponent(orgSlug)}`;
  return (
    <article className="assistant-card" aria-labelledby={`assistant-${assistant.id}`}>
      <h3 id={`assistant-${assistant.id}`} className="assistant-card__name">
        {assistant.name}
      </h3>
      {assistant.description ? <p className="assistant-card__description">{assistant.description}</p> : null}
      <dl className="assistant-card__meta">
        <div>
          <dt>Graph</dt>
          <dd>
            <code>{assistant.graph_id}</code>
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{assistant.version}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>
            <time dateTime={assistant.updated_at}>{formatDate(assistant.updated_at)}</time>
          </dd>
        </div>
      </dl>
      <div className="assistant-card__actions">
        {canChat ? (
          <Link
            className="button button--secondary"
            to={`${base}/chat?${new URLSearchParams({ assistant: assistant.id }).toString()}`}
            aria-label={`Chat with ${assistant.name}`}
          >
            Chat
          </Link>
        ) : null}
        {canConfigure ? (
          <Link
            className="button button--ghost"
            to={`${base}/assistants/${encodeURIComponent(assistant.id)}/settings`}
            aria-label={`Settings of ${assistant.name}`}
          >
            Settings
          </Link>
        ) : null}
      </div>
    </article>
  );
}
