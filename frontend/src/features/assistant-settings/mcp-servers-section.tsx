import type { McpServer } from "../../api/mcp-servers";
import { Badge } from "../../components/ui/badge";
import { mcpServersOutsidePolicy } from "../../lib/assistant-settings";
import { Section, type SectionProps } from "./section";

/** The org's registered MCP servers, or why they could not be loaded. */
export type McpServerChoices = { status: "loading" } | { status: "error"; message: string } | { status: "success"; servers: McpServer[] };

function where(server: McpServer): string {
  if (server.transport === "stdio") return server.command.join(" ");
  return server.url;
}

function ServerDetails({ server }: { server: McpServer }) {
  return (
    <p className="muted mcp-server-list__details">
      <code>{server.transport}</code> {where(server) ? <code>{where(server)}</code> : null}
      {server.oauth_provider ? (
        <>
          {" "}
          · each user signs in with <strong>{server.oauth_provider}</strong>
        </>
      ) : (
        " · no sign-in"
      )}
    </p>
  );
}

/**
 * Which of the org's MCP servers the assistant gets tools from (`mcp_servers`). Admins register
 * servers; only enabled ones may be chosen, so a disabled one can only be unticked, and a name the
 * org no longer has is shown so it can be removed.
 */
export function McpServersSection({ draft, disabled, onChange, choices }: SectionProps & { choices: McpServerChoices }) {
  const chosen = new Set(draft.mcpServers);
  const toggle = (name: string, on: boolean) => {
    onChange({ mcpServers: on ? [...draft.mcpServers, name] : draft.mcpServers.filter((item) => item !== name) });
  };
  const servers = choices.status === "success" ? choices.servers : [];
  const known = new Set(servers.map((server) => server.name));
  const unknown = draft.mcpServers.filter((name) => !known.has(name));
  const problems = choices.status === "success" ? mcpServersOutsidePolicy(draft.mcpServers, servers) : [];

  return (
    <Section title="MCP servers" description="Tools of the organisation's MCP servers that this assistant may call. An admin registers the servers.">
      {choices.status === "loading" ? <p className="muted">Loading the organisation's MCP servers…</p> : null}
      {choices.status === "error" ? <p className="muted">The organisation's MCP servers could not be loaded: {choices.message}</p> : null}
      {choices.status === "success" && servers.length === 0 && unknown.length === 0 ? (
        <p className="muted">The organisation has no MCP servers yet: an admin registers them.</p>
      ) : null}
      {servers.length > 0 || unknown.length > 0 ? (
        <ul className="mcp-server-list" aria-label="MCP servers">
          {servers.map((server) => (
            <li key={server.id} data-testid="mcp-server">
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={chosen.has(server.name)}
                  disabled={disabled || (!server.enabled && !chosen.has(server.name))}
                  onChange={(event) => {
                    toggle(server.name, event.target.checked);
                  }}
                />{" "}
                {server.name}
              </label>{" "}
              {server.enabled ? null : <Badge>Disabled by an admin</Badge>}
              {server.oauth_provider ? <Badge tone="accent">OAuth</Badge> : null}
              <ServerDetails server={server} />
            </li>
          ))}
          {choices.status === "success"
            ? unknown.map((name) => (
                <li key={name} data-testid="mcp-server">
                  <label className="checkbox">
                    <input type="checkbox" checked disabled={disabled} onChange={() => { toggle(name, false); }} /> {name}
                  </label>{" "}
                  <Badge>Not registered</Badge>
                </li>
              ))
            : null}
        </ul>
      ) : null}
      {problems.length > 0 ? (
        <p className="field__error" data-testid="mcp-servers-outside-policy">
          Not offered by the organisation, so saving will be refused:{" "}
          {problems.map((problem) => `${problem.name} (${problem.reason === "disabled" ? "disabled" : "not registered"})`).join(", ")}
        </p>
      ) : null}
    </Section>
  );
}
