import { api } from "./client";

/**
 * An MCP server an org admin registered (`GET /orgs/{org}/mcp-servers`, readable by builders).
 * Assistants name the ones they get in their `mcp_servers` setting; only enabled ones may be named.
 */
export interface McpServer {
  id: string;
  name: string;
  /** `streamable_http`, `sse` or `stdio`. */
  transport: string;
  url: string;
  command: string[];
  /** The slug of the OAuth provider each user connects to use it; null if it needs none. */
  oauth_provider: string | null;
  scopes: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export function listMcpServers(orgSlug: string, signal?: AbortSignal): Promise<McpServer[]> {
  return api.get<McpServer[]>(`/api/v1/orgs/${encodeURIComponent(orgSlug)}/mcp-servers`, signal);
}
