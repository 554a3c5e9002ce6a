import { describe, expect, it } from "vitest";
import { safeNextPath } from "./safe-next-path";

describe("safeNextPath", () => {
  it("keeps an app path with its query and hash", () => {
    expect(safeNextPath("/o/demo?tab=1#top")).toBe("/o/demo?tab=1#top");
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["absolute URL", "https://evil.example/"],
    ["protocol-relative", "//evil.example/"],
    ["backslash trick", "/\\evil.example"],
    ["tab trick", "/\t/evil.example"],
    ["javascript URL", "javascript:alert(1)"],
    ["relative path", "o/demo"],
    ["the login page itself", "/login?next=/o/demo"],
  ])("falls back for %s", (_label, raw) => {
    expect(safeNextPath(raw)).toBe("/");
  });

  it("uses the given fallback", () => {
    expect(safeNextPath(undefined, "/o/demo")).toBe("/o/demo");
  });
});
