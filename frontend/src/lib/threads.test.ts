import { describe, expect, it } from "vitest";
import { matchesQuery, runsOfflineModel, threadAssistantId, threadTitle, titleFromText, UNTITLED } from "./threads";

describe("titleFromText", () => {
  it("uses the first line, whitespace collapsed", () => {
    expect(titleFromText("  Plan   the launch\nwith details")).toBe("Plan the launch");
  });

  it("cuts a long line at a word, with an ellipsis", () => {
    const title = titleFromText("Please summarise the quarterly report and list every risk mentioned by the auditors in detail");
    expect(title).toBe("Please summarise the quarterly report and list every risk…");
    expect(title.length).toBeLessThanOrEqual(61);
  });

  it("cuts a long word hard", () => {
    expect(titleFromText("x".repeat(80))).toBe(`${"x".repeat(60)}…`);
  });

  it("falls back for empty text", () => {
    expect(titleFromText("  \n ")).toBe(UNTITLED);
  });
});

describe("thread metadata", () => {
  it("reads the title and the assistant", () => {
    expect(threadTitle({ title: " Trip " })).toBe("Trip");
    expect(threadTitle({ title: "" })).toBe(UNTITLED);
    expect(threadTitle(null)).toBe(UNTITLED);
    expect(threadAssistantId({ assistant_id: "a-1", graph_id: "agent" })).toBe("a-1");
    expect(threadAssistantId({ assistant_id: 3 })).toBeNull();
  });
});

describe("matchesQuery", () => {
  it("ignores case and accents; an empty query matches everything", () => {
    expect(matchesQuery("Café plans", "CAFE")).toBe(true);
    expect(matchesQuery("Budget", "plan")).toBe(false);
    expect(matchesQuery("Budget", "  ")).toBe(true);
  });
});

describe("runsOfflineModel", () => {
  it.each([
    ["its own offline model", { model: "offline" }, { default_model: "openai:gpt-4.1", offline_model: false }, true],
    ["an offline variant", { model: "offline:slow" }, null, true],
    ["its own real model, whatever the default", { model: "openai:gpt-4.1" }, { default_model: "offline", offline_model: true }, false],
    ["the server's offline default", {}, { default_model: "offline", offline_model: true }, true],
    ["the server's real default", { model: "  " }, { default_model: "anthropic:claude", offline_model: false }, false],
    ["only the flag", null, { offline_model: false }, false],
    ["nothing known", null, null, true],
  ])("%s", (_label, context, server, expected) => {
    expect(runsOfflineModel(context, server)).toBe(expected);
  });
});
