import { isRecord } from "./is-record";

/** An agent's request that the user connect an outside service (`atrium_agents.auth`). */
export interface ConsentRequest {
  providerName: string;
  scopes: string[];
  authorizationUrl: string;
  reason: string;
}

/** The consent request an interrupt carries, or null. Only http(s) authorization URLs are kept. */
export function parseConsentRequest(value: unknown): ConsentRequest | null {
  if (!isRecord(value) || value.type !== "oauth_consent") return null;
  const url = typeof value.authorization_url === "string" ? value.authorization_url : "";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  const name = typeof value.provider_name === "string" && value.provider_name ? value.provider_name : value.provider;
  return {
    providerName: typeof name === "string" && name ? name : "the service",
    scopes: Array.isArray(value.scopes) ? value.scopes.filter((s): s is string => typeof s === "string") : [],
    authorizationUrl: parsed.href,
    reason: typeof value.reason === "string" ? value.reason : "",
  };
}
