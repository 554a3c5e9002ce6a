import { QueryList } from "../../components/query-list";
import { EmptyState } from "../../components/ui/empty-state";
import { useCurrentMembership } from "../orgs/current-org-context";
import { can } from "../orgs/permissions";
import { AssistantCard } from "./assistant-card";
import { useAssistants } from "./use-assistants";

/** `/o/:slug`: the organisation's assistants. Choosing one will open its chat. */
export function AssistantsPage() {
  const membership = useCurrentMembership();
  const { org } = membership;
  const canConfigure = can(membership, "configure_agents");
  const assistants = useAssistants(org.slug);

  return (
    <section className="page" aria-labelledby="assistants-title">
      <title>{`Assistants · ${org.name} · Atrium`}</title>
      <header className="page__header">
        <p className="page__eyebrow">{org.name}</p>
        <h1 id="assistants-title" className="page__title">
          Assistants
        </h1>
      </header>

      <QueryList
        query={assistants}
        loadingLabel="Loading assistants…"
        empty={
          <EmptyState title="No assistants yet">
            <p>
              {canConfigure
                ? "Assistants you add to this organisation will appear here."
                : "When a builder or admin adds an assistant to this organisation, it will appear here."}
            </p>
          </EmptyState>
        }
      >
        {(list) => (
          <ul className="assistant-list" aria-label="Assistants">
            {list.map((assistant) => (
              <li key={assistant.id}>
                <AssistantCard assistant={assistant} orgSlug={org.slug} canChat={can(membership, "use_agents")} canConfigure={canConfigure} />
              </li>
            ))}
          </ul>
        )}
      </QueryList>
    </section>
  );
}
