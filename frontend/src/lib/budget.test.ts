import { describe, expect, it } from "vitest";
import { parseBudgetPause } from "./budget";

describe("parseBudgetPause", () => {
  it("reads a budget pause", () => {
    expect(
      parseBudgetPause({
        type: "budget_exceeded",
        message: "The daily budget of your model usage (10 tokens) is spent.",
        scope: "member",
        period: "day",
        metric: "tokens",
      }),
    ).toEqual({ message: "The daily budget of your model usage (10 tokens) is spent.", scope: "member", period: "day" });
  });

  it("falls back to a plain message and ignores other interrupts", () => {
    expect(parseBudgetPause({ type: "budget_exceeded", scope: "org", period: "month", message: 3 })).toEqual({
      message: "A monthly model usage budget is spent.",
      scope: "org",
      period: "month",
    });
    expect(parseBudgetPause({ type: "oauth_consent" })).toBeNull();
    expect(parseBudgetPause("budget_exceeded")).toBeNull();
  });
});
