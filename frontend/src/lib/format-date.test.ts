import { describe, expect, it } from "vitest";
import { formatDate } from "./format-date";

describe("formatDate", () => {
  it("formats an ISO timestamp as a short date", () => {
    expect(formatDate("2026-03-04T12:30:00Z", "en-GB", "UTC")).toBe("4 Mar 2026");
    expect(formatDate("2026-03-04T12:30:00Z", "en-US", "UTC")).toBe("Mar 4, 2026");
  });

  it("respects the time zone at a day boundary", () => {
    expect(formatDate("2026-03-04T23:30:00Z", "en-GB", "Asia/Tokyo")).toBe("5 Mar 2026");
  });

  it("returns an unreadable value unchanged", () => {
    expect(formatDate("not a date", "en-GB")).toBe("not a date");
  });
});
