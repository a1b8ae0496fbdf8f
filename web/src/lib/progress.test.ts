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
    expect(progressOf(run, now)).toEqual({ epoch: 4, total: 10, fraction: 0.4, etaMs: 60_000 });
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
