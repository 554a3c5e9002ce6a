import { useState } from "react";
import { deleteStoreItem, searchStoreItems } from "../../api/agent";
import type { StoreItem } from "../../api/agent-types";
import { toApiError } from "../../api/errors";
import { useApiQuery } from "../../api/use-api-query";
import { InlineConfirm } from "../../components/inline-confirm";
import { QueryList } from "../../components/query-list";
import { Alert } from "../../components/ui/alert";
import { EmptyState } from "../../components/ui/empty-state";
import { formatDate } from "../../lib/format-date";
import { memoryContent, memoryNamespaces, memoryPath, mergeMemoryItems } from "../../lib/memory-files";
import { useMe } from "../auth/session-context";
import { useCurrentMembership } from "../orgs/current-org-context";
import { can } from "../orgs/permissions";

/** `/o/:slug/memory`: the notes the agent keeps about the signed-in user, to read and delete. */
export function MemoryPage() {
  const me = useMe();
  const membership = useCurrentMembership();
  const { org } = membership;
  const items = useApiQuery(
    `memories:${org.slug}:${String(me.id)}`,
    async (signal) => {
      const lists = await Promise.all(memoryNamespaces(me.id, org.id).map((namespace) => searchStoreItems(org.slug, namespace, signal)));
      return mergeMemoryItems(lists);
    },
    { keepDataOnReload: true },
  );
  const [openKey, setOpenKey] = useState<string | null>(null);
  const [confirmKey, setConfirmKey] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const readOnly = !can(membership, "use_agents");

  async function remove(item: StoreItem) {
    setError(null);
    try {
      await deleteStoreItem(org.slug, item.namespace, item.key);
      setConfirmKey(null);
      if (openKey === item.key) setOpenKey(null);
      items.reload();
    } catch (caught) {
      setError(toApiError(caught).message);
    }
  }

  return (
    <section className="page" aria-labelledby="memory-title">
      <title>{`Memory · ${org.name} · Atrium`}</title>
      <header className="page__header">
        <p className="page__eyebrow">{org.name}</p>
        <h1 id="memory-title" className="page__title">
          Memory
        </h1>
        <p className="muted">What the assistant has written down about you in its /memories/ folder.</p>
      </header>
      {error ? <Alert>{error}</Alert> : null}
      <QueryList
        query={items}
        loadingLabel="Loading memory…"
        empty={
          <EmptyState title="Nothing remembered yet">
            <p>Ask the assistant to remember something, and its notes will show up here.</p>
          </EmptyState>
        }
      >
        {(list) => (
          <ul className="memory-list" aria-label="Memory files">
            {list.map((item) => {
              const open = openKey === item.key;
              return (
                <li key={item.key} className="memory-file" data-testid="memory-file">
                  <div className="memory-file__header">
                    <button
                      type="button"
                      className="memory-file__toggle"
                      aria-expanded={open}
                      onClick={() => {
                        setOpenKey(open ? null : item.key);
                      }}
                    >
                      <code>{memoryPath(item.key)}</code>
                    </button>
                    {item.updated_at ? (
                      <time className="muted" dateTime={item.updated_at}>
                        {formatDate(item.updated_at)}
                      </time>
                    ) : null}
                    {!readOnly && confirmKey !== item.key ? (
                      <button
                        type="button"
                        className="link-button link-button--danger"
                        aria-label={`Delete ${memoryPath(item.key)}`}
                        onClick={() => {
                          setConfirmKey(item.key);
                        }}
                      >
                        Delete
                      </button>
                    ) : null}
                  </div>
                  {confirmKey === item.key ? (
                    <InlineConfirm
                      label={`Delete ${memoryPath(item.key)}?`}
                      message="The assistant will forget everything in this file."
                      confirmText="Delete"
                      onKeep={() => { setConfirmKey(null); }}
                      onConfirm={() => void remove(item)}
                    />
                  ) : null}
                  {open ? <pre className="code-block memory-file__content">{memoryContent(item.value) || "(empty file)"}</pre> : null}
                </li>
              );
            })}
          </ul>
        )}
      </QueryList>
    </section>
  );
}
