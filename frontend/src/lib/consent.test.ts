import { describe, expect, it } from "vitest";
import { parseConsentRequest } from "./consent";

describe("parseConsentRequest", () => {
  it("reads an agent's consent request", () => {
    expect(
      parseConsentRequest({
        type: "oauth_consent",
        provider: "github",
        provider_name: "GitHub",
        scopes: ["repo", 3],
        authorization_url: "https://github.example/authorize?state=s",
        reason: "refresh_failed",
      }),
    ).toEqual({
      providerName: "GitHub",
      scopes: ["repo"],
      authorizationUrl: "https://github.example/authorize?state=s",
      reason: "refresh_failed",
    });
  });

  it("ignores other interrupts and unsafe links", () => {
    expect(parseConsentRequest({ question: "approve?" })).toBeNull();
    expect(parseConsentRequest({ type: "oauth_consent", authorization_url: "javascript:alert(1)" })).toBeNull();
    expect(parseConsentRequest({ type: "oauth_consent", authorization_url: "not a url" })).toBeNull();
    expect(parseConsentRequest("oauth_consent")).toBeNull();
  });
});
