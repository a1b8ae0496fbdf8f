import { describe, expect, it } from "vitest";
import { makeRun } from "../test/fixtures";
import { formatDuration } from "./format";
import { estimateEta, progressOf, runDuration } from "./progress";

describe("progress and ETA", () => {
  it("ETA = elapsed / epoch * (total - epoch)", () => {
    expect(estimateEta(30_000, 3, 10)).toBe(70_000);
    expect(estimateEta(30_000, 0, 10)).toBeNull();
    expect(estimateEta(30_000, 11, 10)).toBeNull();
  });

  it("reads epoch and total_epochs from the latest progress line", () => {
    const run = makeRun({ startedAt: "2026-11-26T12:00:00Z", progress: { epoch: 4, total_epochs: 10 } });
    const now = Date.parse("2026-11-26T12:00:40Z");
    expect(progressOf(run, now)).toEqual({
      epoch: 4,
      total: 10,
      unit: "epoch",
      fraction: 0.4,
      etaMs: 60_000,
    });
  });

  it("falls back to the progress bar on the output when no epochs are reported", () => {
    const run = makeRun({
      startedAt: "2026-11-26T12:00:00Z",
      progress: { loss: 0.3, bar: { n: 25, total: 100 } },
    });
    const now = Date.parse("2026-11-26T12:00:10Z");
    expect(progressOf(run, now)).toEqual({
      epoch: 25,
      total: 100,
      unit: "step",
      fraction: 0.25,
      etaMs: 30_000,
    });
    const both = makeRun({ progress: { epoch: 1, total_epochs: 4, bar: { n: 9, total: 10 } } });
    expect(progressOf(both, now)).toMatchObject({ epoch: 1, total: 4, unit: "epoch" });
  });

  it("has no ETA once the run has ended, nor without total_epochs", () => {
    const done = makeRun({ status: "completed", progress: { epoch: 10, total_epochs: 10 } });
    expect(progressOf(done, Date.now()).etaMs).toBeNull();
    const bare = makeRun({ progress: { loss: 0.3 } });
    expect(progressOf(bare, Date.now())).toMatchObject({ fraction: null, etaMs: null });
  });

  it("measures duration from start to finish (or now)", () => {
    const run = makeRun({ startedAt: "2026-11-26T12:00:00Z", finishedAt: "2026-11-26T12:02:05Z" });
    expect(formatDuration(runDuration(run, 0))).toBe("2m 05s");
    expect(runDuration(makeRun({ startedAt: null }), 0)).toBeNull();
  });
});
