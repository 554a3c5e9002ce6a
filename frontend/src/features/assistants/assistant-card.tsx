import { Link } from "react-router";
import type { Assistant } from "../../api/types";
import { formatDate } from "../../lib/format-date";

export function AssistantCard({ assistant, orgSlug }: { assistant: Assistant; orgSlug: string }) {
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
      <Link
        className="button button--secondary assistant-card__chat"
        to={`/o/${encodeURIComponent(orgSlug)}/chat?${new URLSearchParams({ assistant: assistant.id }).toString()}`}
        aria-label={`Chat with ${assistant.name}`}
      >
        Chat
      </Link>
    </article>
  );
}
