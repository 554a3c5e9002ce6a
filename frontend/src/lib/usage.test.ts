import { describe, expect, it } from "vitest";
import { budgetLeft, budgetPercent, formatCost, formatMetric, formatTokens } from "./usage";

describe("usage figures", () => {
  it("formats tokens and costs in one locale, and a missing cost as a dash", () => {
    expect(formatTokens(1234567)).toBe("1,234,567");
    expect(formatCost(0.00125)).toBe("0.0013");
    expect(formatCost(3)).toBe("3.00");
    expect(formatCost(null)).toBe("—");
    expect(formatMetric("tokens", 5000)).toBe("5,000 tokens");
    expect(formatMetric("cost", 1.5)).toBe("1.50");
  });

  it("says what is left of a budget, never below zero, and nothing when the spend is hidden", () => {
    expect(budgetLeft({ limit: 1000, spent: 250 })).toBe(750);
    expect(budgetLeft({ limit: 1000, spent: 1200 })).toBe(0);
    expect(budgetLeft({ limit: 1000, spent: null })).toBeNull();
    expect(budgetPercent({ limit: 1000, spent: 250 })).toBe(25);
    expect(budgetPercent({ limit: 1000, spent: 1200 })).toBe(100);
    expect(budgetPercent({ limit: 0, spent: 0 })).toBe(100);
    expect(budgetPercent({ limit: 10, spent: null })).toBeNull();
  });
});
