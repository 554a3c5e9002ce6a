import { QueryList } from "../../components/query-list";
import { EmptyState } from "../../components/ui/empty-state";
import { useCurrentMembership } from "../orgs/current-org-context";
import { AssistantCard } from "./assistant-card";
import { useAssistants } from "./use-assistants";

/** `/o/:slug`: the organisation's assistants. Choosing one will open its chat. */
export function AssistantsPage() {
  const { org, role } = useCurrentMembership();
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
              {role === "viewer"
                ? "When an editor or admin adds an assistant to this organisation, it will appear here."
                : "Assistants you add to this organisation will appear here."}
            </p>
          </EmptyState>
        }
      >
        {(list) => (
          <ul className="assistant-list" aria-label="Assistants">
            {list.map((assistant) => (
              <li key={assistant.id}>
                <AssistantCard assistant={assistant} orgSlug={org.slug} />
              </li>
            ))}
          </ul>
        )}
      </QueryList>
    </section>
  );
}
