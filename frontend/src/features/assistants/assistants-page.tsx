import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { EmptyState } from "../../components/ui/empty-state";
import { Loading } from "../../components/ui/loading";
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

      {assistants.status === "loading" ? <Loading label="Loading assistants…" /> : null}

      {assistants.status === "error" ? (
        <div className="stack">
          <Alert>{assistants.error.message}</Alert>
          <div>
            <Button onClick={assistants.reload}>Try again</Button>
          </div>
        </div>
      ) : null}

      {assistants.status === "success" && assistants.data.length === 0 ? (
        <EmptyState title="No assistants yet">
          <p>
            {role === "viewer"
              ? "When an editor or admin adds an assistant to this organisation, it will appear here."
              : "Assistants you add to this organisation will appear here."}
          </p>
        </EmptyState>
      ) : null}

      {assistants.status === "success" && assistants.data.length > 0 ? (
        <ul className="assistant-list" aria-label="Assistants">
          {assistants.data.map((assistant) => (
            <li key={assistant.id}>
              <AssistantCard assistant={assistant} orgSlug={org.slug} />
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
