import { describe, expect, it } from "vitest";
import { readCookie } from "./cookies";

describe("readCookie", () => {
  it("finds a cookie among several", () => {
    expect(readCookie("csrftoken", "sessionid=abc; csrftoken=tok123; theme=dark")).toBe("tok123");
  });

  it("matches the whole name, not a suffix", () => {
    expect(readCookie("token", "csrftoken=tok123")).toBeNull();
  });

  it("decodes URI-encoded values and keeps '=' inside them", () => {
    expect(readCookie("next", "next=%2Fo%2Fdemo; pair=a=b")).toBe("/o/demo");
    expect(readCookie("pair", "next=%2Fo%2Fdemo; pair=a=b")).toBe("a=b");
  });

  it("returns a malformed value as it is", () => {
    expect(readCookie("bad", "bad=%E0%A4%A")).toBe("%E0%A4%A");
  });

  it("returns null when the cookie is absent or the jar is empty", () => {
    expect(readCookie("csrftoken", "")).toBeNull();
    expect(readCookie("csrftoken", "flag")).toBeNull();
  });

  it("reads document.cookie by default", () => {
    document.cookie = "csrftoken=from-document; path=/";
    expect(readCookie("csrftoken")).toBe("from-document");
  });
});
