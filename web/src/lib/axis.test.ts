import { describe, expect, it } from "vitest";
import { decimalsFor, tickLabels } from "./axis";

describe("value-axis labels", () => {
  it("never repeat a label when the step is finer than three decimals (a learning rate)", () => {
    // What uPlot's default format showed as 0.001, 0.001, 0.002, 0.002.
    const labels = tickLabels([0.0005, 0.001, 0.0015, 0.002], 0.0005);
    expect(labels).toEqual(["0.0005", "0.0010", "0.0015", "0.0020"]);
    expect(new Set(labels).size).toBe(labels.length);
    expect(tickLabels([0.00025, 0.0005, 0.00075], 0.00025)).toEqual(["0.00025", "0.00050", "0.00075"]);
  });

  it("writes whole steps without decimals and halves with one", () => {
    expect(tickLabels([0, 20, 40], 20)).toEqual(["0", "20", "40"]);
    expect(tickLabels([0, 2.5, 5], 2.5)).toEqual(["0.0", "2.5", "5.0"]);
    expect(tickLabels([0.9, 0.95, 1], 0.05)).toEqual(["0.90", "0.95", "1.00"]);
  });

  it("shows zero as 0, not -0", () => {
    expect(tickLabels([-0.1, -1e-17, 0.1], 0.1)).toEqual(["-0.1", "0.0", "0.1"]);
  });

  it("counts the decimals a step needs despite floating point", () => {
    expect(decimalsFor(0.1 + 0.2)).toBe(1);
    expect(decimalsFor(0.0005)).toBe(4);
    expect(decimalsFor(1000)).toBe(0);
    expect(decimalsFor(0)).toBe(0);
  });
});
