import { useState } from "react";
import { useSearchParams } from "react-router";
import { disconnect, listMyConnections, type Connection } from "../../api/connections";
import { toApiError } from "../../api/errors";
import { useApiQuery } from "../../api/use-api-query";
import { InlineConfirm } from "../../components/inline-confirm";
import { QueryList } from "../../components/query-list";
import { Alert } from "../../components/ui/alert";
import { EmptyState } from "../../components/ui/empty-state";
import { formatDate } from "../../lib/format-date";
import { useMe } from "../auth/session-context";
import { useCurrentMembership } from "../orgs/current-org-context";

const STATUS_LABELS: Record<Connection["status"], string> = {
  active: "Connected",
  needs_consent: "Needs you to connect again",
  revoked: "Revoked",
};

/** `/o/:slug/connections`: the outside services the signed-in user let assistants use, to revoke. */
export function ConnectionsPage() {
  const me = useMe();
  const { org } = useCurrentMembership();
  const [params] = useSearchParams();
  const connected = params.get("connected");
  const items = useApiQuery(`connections:${org.slug}:${String(me.id)}`, (signal) => listMyConnections(org.slug, signal), {
    keepDataOnReload: true,
  });
  const [confirmId, setConfirmId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function revoke(connection: Connection) {
    setError(null);
    try {
      await disconnect(org.slug, connection.id);
      setConfirmId(null);
      items.reload();
    } catch (caught) {
      setError(toApiError(caught).message);
    }
  }

  return (
    <section className="page" aria-labelledby="connections-title">
      <title>{`Connections · ${org.name} · Atrium`}</title>
      <header className="page__header">
        <p className="page__eyebrow">{org.name}</p>
        <h1 id="connections-title" className="page__title">
          Connections
        </h1>
        <p className="muted">Outside services you let assistants use on your behalf. Revoking one also revokes it at the service.</p>
      </header>
      {connected ? <p role="status">Connected {connected}.</p> : null}
      {error ? <Alert>{error}</Alert> : null}
      <QueryList
        query={items}
        loadingLabel="Loading connections…"
        empty={
          <EmptyState title="No connections">
            <p>When an assistant needs one of your accounts, it asks you to connect it in the conversation.</p>
          </EmptyState>
        }
      >
        {(list) => (
          <ul className="memory-list" aria-label="Your connections">
            {list.map((connection) => (
              <li key={connection.id} className="memory-file" data-testid="connection">
                <div className="memory-file__header">
                  <div>
                    <strong>{connection.provider_name}</strong>{" "}
                    <span className="muted">
                      {STATUS_LABELS[connection.status]} · {connection.scopes.join(", ") || "no scopes"} · since{" "}
                      {formatDate(connection.created_at)}
                    </span>
                  </div>
                  {confirmId !== connection.id ? (
                    <button
                      type="button"
                      className="link-button link-button--danger"
                      aria-label={`Revoke ${connection.provider_name}`}
                      onClick={() => { setConfirmId(connection.id); }}
                    >
                      Revoke
                    </button>
                  ) : null}
                </div>
                {confirmId === connection.id ? (
                  <InlineConfirm
                    label={`Revoke ${connection.provider_name}?`}
                    message="Assistants will have to ask you to connect again before they use it."
                    confirmText="Revoke"
                    onKeep={() => { setConfirmId(null); }}
                    onConfirm={() => void revoke(connection)}
                  />
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </QueryList>
    </section>
  );
}
