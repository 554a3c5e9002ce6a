import type { Assistant } from "../../api/types";
import { formatDate } from "../../lib/format-date";

export function AssistantCard({ assistant }: { assistant: Assistant }) {
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
    </article>
  );
}
