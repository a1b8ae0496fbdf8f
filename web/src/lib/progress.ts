// Progress of a run: epoch / total_epochs from its VTM_PROGRESS lines, else where the progress
// bar on its output stands (progress.bar, {n, total}: tqdm, Lightning, Hugging Face); percent, ETA.
import type { RunRecord } from "../api/types";

export interface Progress {
  epoch: number | null;
  total: number | null;
  /** What epoch and total count: epochs (the protocol) or a progress bar's steps. */
  unit: "epoch" | "step";
  /** 0..1, when both epoch and total are known. */
  fraction: number | null;
  /** Milliseconds left, while the run is going and has finished at least one epoch. */
  etaMs: number | null;
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/** ETA = time since the start / epochs done * epochs left (assumes epochs take equal time). */
export function estimateEta(elapsedMs: number, epoch: number, total: number): number | null {
  if (epoch <= 0 || total < epoch || elapsedMs < 0) return null;
  return (elapsedMs / epoch) * (total - epoch);
}

function barOf(run: RunRecord): { n: number | null; total: number | null } {
  const bar: unknown = run.progress.bar;
  if (typeof bar !== "object" || bar === null) return { n: null, total: null };
  const { n, total } = bar as Record<string, unknown>;
  return { n: count(n), total: count(total) };
}

export function progressOf(run: RunRecord, now: number): Progress {
  let epoch = count(run.progress.epoch);
  let total = count(run.progress.total_epochs);
  let unit: Progress["unit"] = "epoch";
  if (epoch === null || total === null) {
    const bar = barOf(run);
    if (bar.n !== null && bar.total !== null) [epoch, total, unit] = [bar.n, bar.total, "step"];
  }
  let fraction: number | null = null;
  let etaMs: number | null = null;
  if (epoch !== null && total !== null && total > 0) {
    fraction = Math.min(1, epoch / total);
    if (run.status === "running" && run.startedAt) {
      etaMs = estimateEta(now - Date.parse(run.startedAt), epoch, total);
    }
  }
  return { epoch, total, unit, fraction, etaMs };
}

/** How long the run has been going (or went); null before it started. */
export function runDuration(run: RunRecord, now: number): number | null {
  if (!run.startedAt) return null;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  return Math.max(0, end - Date.parse(run.startedAt));
}
