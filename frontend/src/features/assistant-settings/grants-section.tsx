import { useState } from "react";
import { getAssistantGrants, putAssistantGrants } from "../../api/assistants";
import { toApiError } from "../../api/errors";
import { listSecrets } from "../../api/policy";
import type { AssistantGrants, GrantAudience } from "../../api/types";
import { useApiQuery } from "../../api/use-api-query";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { Loading } from "../../components/ui/loading";

interface GrantsSectionProps {
  orgSlug: string;
  assistantId: string;
  /** Admins change grants; builders see them, to know what their assistant can use. */
  editable: boolean;
}

const AUDIENCES: { value: GrantAudience; label: string }[] = [
  { value: "everyone", label: "Everyone in the organisation" },
  { value: "team", label: "Only builders and admins" },
];

function GrantsEditor({ orgSlug, assistantId, initial, secretNames, editable }: GrantsSectionProps & { initial: AssistantGrants; secretNames: string[] }) {
  const [grants, setGrants] = useState(initial);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const names = [...new Set([...secretNames, ...grants.secrets])].sort();

  function toggle(name: string, on: boolean) {
    setSaved(false);
    setGrants((current) => ({ ...current, secrets: on ? [...current.secrets, name] : current.secrets.filter((s) => s !== name) }));
  }

  async function save() {
    setSaving(true);
    setError(null);
    try {
      setGrants(await putAssistantGrants(orgSlug, assistantId, grants));
      setSaved(true);
    } catch (caught) {
      setError(toApiError(caught).message);
    } finally {
      setSaving(false);
    }
  }

  const disabled = !editable || saving;
  return (
    <div className="stack">
      <fieldset className="settings-subgroup">
        <legend className="field__label">Workspace secrets its runs receive</legend>
        {names.length === 0 ? <p className="muted">The organisation has no workspace secrets.</p> : null}
        {names.map((name) => (
          <label key={name} className="checkbox">
            <input type="checkbox" checked={grants.secrets.includes(name)} disabled={disabled} onChange={(event) => { toggle(name, event.target.checked); }} />{" "}
            <code>{name}</code>
          </label>
        ))}
      </fieldset>
      <fieldset className="settings-subgroup">
        <legend className="field__label">Who may use it</legend>
        {AUDIENCES.map((audience) => (
          <label key={audience.value} className="checkbox">
            <input
              type="radio"
              name={`audience-${assistantId}`}
              value={audience.value}
              checked={grants.audience === audience.value}
              disabled={disabled}
              onChange={() => {
                setSaved(false);
                setGrants((current) => ({ ...current, audience: audience.value }));
              }}
            />{" "}
            {audience.label}
          </label>
        ))}
      </fieldset>
      {error ? <Alert>{error}</Alert> : null}
      {saved ? <p role="status">Grants saved.</p> : null}
      {editable ? (
        <div>
          <Button variant="primary" disabled={saving} onClick={() => void save()}>
            {saving ? "Saving…" : "Save grants"}
          </Button>
        </div>
      ) : (
        <p className="muted">Only an admin can change what this assistant is granted.</p>
      )}
    </div>
  );
}

/** What an admin granted the assistant: the secrets its runs receive, and who may use it. */
export function GrantsSection(props: GrantsSectionProps) {
  const { orgSlug, assistantId, editable } = props;
  const grants = useApiQuery(`grants:${orgSlug}:${assistantId}`, (signal) => getAssistantGrants(orgSlug, assistantId, signal));
  // Only admins may list the workspace secrets; builders see the granted names alone.
  const secrets = useApiQuery(editable ? `secrets:${orgSlug}` : null, (signal) => listSecrets(orgSlug, signal));

  let body;
  if (grants.status === "error") body = <Alert>The grants could not be loaded: {grants.error.message}</Alert>;
  else if (editable && secrets.status === "error") body = <Alert>The workspace secrets could not be loaded: {secrets.error.message}</Alert>;
  else if (grants.status === "loading" || (editable && secrets.status === "loading")) body = <Loading label="Loading the grants…" />;
  else {
    const secretNames = secrets.status === "success" ? secrets.data.map((secret) => secret.name) : [];
    body = <GrantsEditor {...props} initial={grants.data} secretNames={secretNames} />;
  }
  return (
    <section className="settings-section" aria-labelledby="grants-title" data-testid="grants-section">
      <h2 id="grants-title" className="settings-section__title">
        Grants
      </h2>
      {body}
    </section>
  );
}
