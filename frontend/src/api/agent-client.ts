import { Client } from "@langchain/langgraph-sdk";
import { agentApiUrl, agentHeaders } from "./agent-headers";
import { sessionFetch } from "./client";

/**
 * The SDK client for one organisation: the org header on every request, and `sessionFetch` for
 * the cookie and the CSRF token. Retries stay low: a command that reached the server and failed
 * afterwards must not be replayed many times (each replay could start another run).
 */
export function createAgentClient(orgSlug: string): Client {
  return new Client({
    apiUrl: agentApiUrl(),
    apiKey: null,
    defaultHeaders: agentHeaders(orgSlug),
    callerOptions: { fetch: sessionFetch, maxRetries: 1 },
  });
}

/** The `fetch` handed to the streaming hook's transport, so streams and commands carry the session. */
export const agentFetch: typeof fetch = sessionFetch;
