import { describe, expect, it } from "vitest";
import { memoryContent, memoryNamespace, memoryPath } from "./memory-files";

describe("memory files", () => {
  it("scopes the namespace to the user id as a string", () => {
    expect(memoryNamespace(7)).toEqual(["user", "7", "memories"]);
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
