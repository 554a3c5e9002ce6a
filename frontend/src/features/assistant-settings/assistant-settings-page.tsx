import { useState } from "react";
import { Link, useParams } from "react-router";
import { getAssistant } from "../../api/assistants";
import { listMcpServers } from "../../api/mcp-servers";
import { getPolicy } from "../../api/policy";
import type { AssistantDetail } from "../../api/types";
import { useApiQuery } from "../../api/use-api-query";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { Loading } from "../../components/ui/loading";
import { NotAllowed } from "../../components/ui/not-allowed";
import { NotFound } from "../../components/ui/not-found";
import { useCurrentMembership } from "../orgs/current-org-context";
import { can } from "../orgs/permissions";
import { GrantsSection } from "./grants-section";
import type { McpServerChoices } from "./mcp-servers-section";
import type { AllowedHosts } from "./sandbox-section";
import { SettingsForm } from "./settings-form";
import { SkillsSection } from "./skills-section";

/** `/o/:slug/assistants/:assistantId/settings`: only for members who may configure agents. */
export function AssistantSettingsPage() {
  const membership = useCurrentMembership();
  const { org } = membership;
  if (!can(membership, "configure_agents")) {
    return (
      <NotAllowed title="Not allowed" backTo={`/o/${encodeURIComponent(org.slug)}`}>
        Your role in this organisation does not let you change assistants. Ask an admin if you need to.
      </NotAllowed>
    );
  }
  return <AssistantSettings orgSlug={org.slug} orgName={org.name} canManage={can(membership, "manage_org")} />;
}

function AssistantSettings({ orgSlug, orgName, canManage }: { orgSlug: string; orgName: string; canManage: boolean }) {
  const { assistantId = "" } = useParams();
  const query = useApiQuery(`assistant:${orgSlug}:${assistantId}`, (signal) => getAssistant(orgSlug, assistantId, signal));
  const policy = useApiQuery(`policy:${orgSlug}`, (signal) => getPolicy(orgSlug, signal));
  const servers = useApiQuery(`mcp-servers:${orgSlug}`, (signal) => listMcpServers(orgSlug, signal));
  const [saved, setSaved] = useState<AssistantDetail | null>(null);

  if (query.status === "loading") return <Loading label="Loading the assistant…" />;
  if (query.status === "error") {
    if (query.error.status === 404) return <NotFound title="Assistant not found" />;
    return (
      <div className="stack">
        <Alert>{query.error.message}</Alert>
        <div>
          <Button onClick={query.reload}>Try again</Button>
        </div>
      </div>
    );
  }
  const assistant = saved?.id === assistantId ? saved : query.data;
  const allowed: AllowedHosts =
    policy.status === "success"
      ? { status: "success", hosts: policy.data.egress_hosts }
      : policy.status === "error"
        ? { status: "error", message: policy.error.message }
        : { status: "loading" };
  const mcpServers: McpServerChoices =
    servers.status === "success"
      ? { status: "success", servers: servers.data }
      : servers.status === "error"
        ? { status: "error", message: servers.error.message }
        : { status: "loading" };

  return (
    <section className="page settings-page" aria-labelledby="settings-title">
      <title>{`Settings of ${assistant.name} · ${orgName} · Atrium`}</title>
      <header className="page__header">
        <p className="page__eyebrow">
          <Link to={`/o/${encodeURIComponent(orgSlug)}`}>Assistants</Link> · Settings · version {assistant.version} ·{" "}
          <code>{assistant.graph_id}</code>
        </p>
        <h1 id="settings-title" className="page__title">
          {assistant.name}
        </h1>
      </header>
      <SettingsForm key={assistant.id} orgSlug={orgSlug} assistant={assistant} allowed={allowed} mcpServers={mcpServers} onSaved={setSaved} />
      <GrantsSection orgSlug={orgSlug} assistantId={assistant.id} editable={canManage} />
      <SkillsSection orgSlug={orgSlug} assistantId={assistant.id} />
    </section>
  );
}
