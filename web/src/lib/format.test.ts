import { describe, expect, it } from "vitest";
import { formatDateTime, formatDay } from "./format";

describe("dates and times", () => {
  it("shows the date with the time for today's instants as for older ones", () => {
    const today = new Date();
    today.setHours(9, 30, 0, 0);
    const older = new Date(2025, 0, 2, 9, 30);
    for (const when of [today, older]) {
      const text = formatDateTime(when.toISOString());
      expect(text).toContain(String(when.getFullYear()));
      expect(text).toContain(when.toLocaleTimeString(undefined, { timeStyle: "short" }));
      expect(formatDateTime(when.getTime())).toBe(text);
    }
  });

  it("formats a calendar day in the date style of formatDateTime", () => {
    const day = formatDay("2026-01-01");
    expect(formatDateTime(new Date(2026, 0, 1, 12, 0).toISOString()).startsWith(day)).toBe(true);
    expect(formatDay("soon")).toBe("soon");
  });

  it("shows a dash for no time at all", () => {
    expect(formatDateTime(null)).toBe("—");
    expect(formatDateTime("not a date")).toBe("—");
    expect(formatDay(undefined)).toBe("—");
  });
});
