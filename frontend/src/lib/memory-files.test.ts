import { describe, expect, it } from "vitest";
import { memoryContent, memoryNamespaces, memoryPath, mergeMemoryItems } from "./memory-files";

describe("memory files", () => {
  it("looks in the deep agent's org-scoped namespace and in the short one", () => {
    expect(memoryNamespaces(7, "org-uuid")).toEqual([
      ["org", "org-uuid", "user", "7", "memories"],
      ["user", "7", "memories"],
    ]);
  });

  it("merges searches, one entry per file, sorted by path", () => {
    const a = { namespace: ["org", "o", "user", "7", "memories"], key: "/todo.md" };
    const b = { namespace: ["user", "7", "memories"], key: "/notes.md" };
    expect(mergeMemoryItems([[a], [b, a], [a]])).toEqual([b, a]);
  });

  it("reads content stored as a string or as lines", () => {
    expect(memoryContent({ content: "- likes tea\n" })).toBe("- likes tea\n");
    expect(memoryContent({ content: ["- likes tea", "- lives in Oslo"], created_at: "x" })).toBe("- likes tea\n- lives in Oslo");
    expect(memoryContent({ other: 1 })).toBe("");
    expect(memoryContent("nope")).toBe("");
  });

  it("shows keys as paths under /memories/", () => {
    expect(memoryPath("/notes.md")).toBe("/memories/notes.md");
    expect(memoryPath("notes.md")).toBe("/memories/notes.md");
  });
});
