import { describe, expect, it } from "vitest";
import type { MetricsResponse } from "../api/types";
import { makeRun } from "../test/fixtures";
import { compareFields, compareMetrics, lastValue } from "./compare";

function metrics(series: Record<string, number[]>): MetricsResponse {
  return {
    runId: "r",
    series: Object.fromEntries(
      Object.entries(series).map(([name, values]) => [
        name,
        values.map((value, i) => ({ step: i + 1, value, time: "2026-11-26T12:00:00Z" })),
      ]),
    ),
  };
}

describe("History's comparison", () => {
  it("puts the runs' fields side by side and marks the ones that differ", () => {
    const a = makeRun({ id: "a", fields: { epochs: 3, lr: 0.5, augment: false } });
    const b = makeRun({ id: "b", fields: { epochs: 3, lr: 0.05, seed: 1 } });
    const rows = compareFields([a, b]);
    expect(rows.map((r) => [r.name, r.differs])).toEqual([
      ["epochs", false],
      ["lr", true],
      ["augment", true], // b was started without it
      ["seed", true],
    ]);
    expect(rows[1]!.values).toEqual({ a: 0.5, b: 0.05 });
    expect("b" in rows[2]!.values).toBe(false);
  });

  it("charts every metric all runs reported, the primary first; names the others", () => {
    const found = compareMetrics(
      [
        metrics({ epoch: [1, 2], val_accuracy: [0.5, 0.9], train_loss: [1, 0.5], lr: [0.1, 0.1] }),
        metrics({ epoch: [1], val_accuracy: [0.4], train_loss: [0.9] }),
      ],
      "val_accuracy",
    );
    expect(found).toEqual({ shared: ["val_accuracy", "train_loss"], partial: ["lr"] });
    expect(compareMetrics([undefined, undefined], null)).toEqual({ shared: [], partial: [] });
  });

  it("takes a metric's last value", () => {
    expect(lastValue(metrics({ val_accuracy: [0.5, 0.9] }), "val_accuracy")).toBe(0.9);
    expect(lastValue(metrics({}), "val_accuracy")).toBeNull();
    expect(lastValue(undefined, "val_accuracy")).toBeNull();
  });
});
