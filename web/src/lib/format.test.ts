import { describe, expect, it } from "vitest";
import { formatDateTime, formatDay, formatEnergy, formatEstimate, formatMemory } from "./format";

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

describe("GPU figures", () => {
  it("shows memory in GiB from a 1 GiB total up, else in MiB", () => {
    expect(formatMemory(12_595, 40_960)).toBe("12.3 / 40.0 GiB");
    expect(formatMemory(0, 40_960)).toBe("0.0 / 40.0 GiB");
    expect(formatMemory(300, 512)).toBe("300 / 512 MiB");
    expect(formatMemory(null, 16_384)).toBe("? / 16.0 GiB");
    expect(formatMemory(null, null)).toBe("—");
  });

  it("says when a queued run should start, or that nobody knows", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    const at = "2026-11-26T12:04:10Z";
    expect(formatEstimate(at, now)).toBe(`in 4m 10s (${formatDateTime(at)})`);
    expect(formatEstimate("2026-11-26T11:59:00Z", now)).toMatch(/^any moment now \(/);
    expect(formatEstimate(null, now)).toBe("unknown");
  });

  it("shows energy in Wh or kWh, and a dash when it was not counted", () => {
    expect(formatEnergy(12.345)).toBe("12.35 Wh");
    expect(formatEnergy(2500)).toBe("2.5 kWh");
    expect(formatEnergy(null)).toBe("—");
  });
});
