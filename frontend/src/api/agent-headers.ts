/**
 * How the browser reaches the Agent Server API: same origin, under `/agent`, with the session
 * cookie (through `sessionFetch` in `client.ts`) and the organisation named in a header on every
 * request. This is the one place those rules live; the REST helpers (`agent.ts`) and the SDK
 * client for the streaming hook (`agent-client.ts`) both build on it.
 */

export const AGENT_PATH = "/agent";
export const ORG_HEADER = "X-Atrium-Org";

/** Headers every Agent Server request carries besides the session ones. */
export function agentHeaders(orgSlug: string): Record<string, string> {
  return { [ORG_HEADER]: orgSlug };
}

/** Absolute base URL for the SDK, which joins paths onto it by string concatenation. */
export function agentApiUrl(origin: string = window.location.origin): string {
  return `${origin}${AGENT_PATH}`;
}
