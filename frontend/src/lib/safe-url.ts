/**
 * Links in agent output are untrusted text. Only web and mail links, and same-page anchors, keep
 * their target; anything else (`javascript:`, `data:`, `vbscript:`, odd encodings of those) is
 * dropped, so the link renders as inert text.
 */
const ALLOWED_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

export function safeLinkUrl(url: string): string {
  // Browsers ignore control characters and leading spaces in URLs ("java\tscript:" still runs).
  const cleaned = url.replace(/\p{Cc}/gu, "").trim();
  if (cleaned === "") return "";
  if (cleaned.startsWith("#")) return cleaned;
  let parsed: URL;
  try {
    parsed = new URL(cleaned);
  } catch {
    // Not absolute: a relative path can't carry a scheme, unless it hides one before a slash.
    return /^[^/?#]*:/.test(cleaned) ? "" : cleaned;
  }
  return ALLOWED_PROTOCOLS.has(parsed.protocol) ? parsed.href : "";
}

/** Whether a link leaves the app (it then opens in a new tab, without the opener). */
export function isExternalUrl(url: string, origin: string = window.location.origin): boolean {
  try {
    return new URL(url, origin).origin !== origin;
  } catch {
    return false;
  }
}
