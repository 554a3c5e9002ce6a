import { useState } from "react";
import { getPolicy, putPolicy } from "../../api/policy";
import { toApiError } from "../../api/errors";
import type { OrgPolicy } from "../../api/types";
import { useApiQuery } from "../../api/use-api-query";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { Loading } from "../../components/ui/loading";
import { NotAllowed } from "../../components/ui/not-allowed";
import { TextAreaField } from "../../components/ui/text-area-field";
import { useCurrentMembership } from "../orgs/current-org-context";
import { can } from "../orgs/permissions";

function parseHosts(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((host) => host.trim()).filter(Boolean))];
}

function PolicyForm({ orgSlug, initial }: { orgSlug: string; initial: OrgPolicy }) {
  const [hosts, setHosts] = useState(initial.egress_hosts.join("\n"));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  async function save() {
    setSaving(true);
    setError(null);
    try {
      const policy = await putPolicy(orgSlug, { egress_hosts: parseHosts(hosts) });
      setHosts(policy.egress_hosts.join("\n"));
      setSaved(true);
    } catch (caught) {
      setError(toApiError(caught).message);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form
      className="stack settings-section"
      aria-label="Policy"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <TextAreaField
        label="Approved egress hosts"
        hint="One host per line. Builders may let an assistant's sandbox reach only these hosts."
        rows={8}
        value={hosts}
        disabled={saving}
        onChange={(event) => {
          setHosts(event.target.value);
          setSaved(false);
        }}
      />
      {error ? <Alert>{error}</Alert> : null}
      {saved ? <p role="status">Policy saved.</p> : null}
      <div>
        <Button type="submit" variant="primary" disabled={saving}>
          {saving ? "Saving…" : "Save policy"}
        </Button>
      </div>
    </form>
  );
}

/** `/o/:slug/policy`: what admins allow builders to configure (the egress host allow-list). */
export function PolicyPage() {
  const membership = useCurrentMembership();
  const { org } = membership;
  const allowed = can(membership, "manage_org");
  const policy = useApiQuery(allowed ? `policy:${org.slug}` : null, (signal) => getPolicy(org.slug, signal));

  if (!allowed) {
    return (
      <NotAllowed title="Not allowed" backTo={`/o/${encodeURIComponent(org.slug)}`}>
        Only the organisation's admins can change its policy.
      </NotAllowed>
    );
  }
  return (
    <section className="page" aria-labelledby="policy-title">
      <title>{`Policy · ${org.name} · Atrium`}</title>
      <header className="page__header">
        <p className="page__eyebrow">{org.name}</p>
        <h1 id="policy-title" className="page__title">
          Policy
        </h1>
        <p className="muted">Limits that every assistant of the organisation is held to, whoever configures it.</p>
      </header>
      {policy.status === "loading" ? <Loading label="Loading the policy…" /> : null}
      {policy.status === "error" ? (
        <div className="stack">
          <Alert>{policy.error.message}</Alert>
          <div>
            <Button onClick={policy.reload}>Try again</Button>
          </div>
        </div>
      ) : null}
      {policy.status === "success" ? <PolicyForm orgSlug={org.slug} initial={policy.data} /> : null}
    </section>
  );
}
