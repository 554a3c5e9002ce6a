import { describe, expect, it } from "vitest";
import { isExternalUrl, safeLinkUrl } from "./safe-url";

describe("safeLinkUrl", () => {
  it.each([
    ["https://example.com/a?b=1", "https://example.com/a?b=1"],
    ["http://example.com", "http://example.com/"],
    ["mailto:someone@example.com", "mailto:someone@example.com"],
    ["#section", "#section"],
    ["/o/demo/memory", "/o/demo/memory"],
    ["docs/readme.md", "docs/readme.md"],
  ])("keeps %s", (input, expected) => {
    expect(safeLinkUrl(input)).toBe(expected);
  });

  it.each([
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "weird:thing",
    "",
  ])("drops %j", (input) => {
    expect(safeLinkUrl(input)).toBe("");
  });
});

describe("isExternalUrl", () => {
  it("tells other origins from this one", () => {
    expect(isExternalUrl("https://example.com/", "https://atrium.test")).toBe(true);
    expect(isExternalUrl("/o/demo", "https://atrium.test")).toBe(false);
    expect(isExternalUrl("mailto:a@b.c", "https://atrium.test")).toBe(true);
  });
});
