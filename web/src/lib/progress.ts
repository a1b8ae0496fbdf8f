// Progress of a run from its latest VTM_PROGRESS line: epoch / total_epochs, percent and ETA.
import type { RunRecord } from "../api/types";

export interface Progress {
  epoch: number | null;
  total: number | null;
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

export function progressOf(run: RunRecord, now: number): Progress {
  const epoch = count(run.progress.epoch);
  const total = count(run.progress.total_epochs);
  const known = epoch !== null && total !== null && total > 0;
  const fraction = known ? Math.min(1, epoch / total) : null;
  let etaMs: number | null = null;
  if (known && run.status === "running" && run.startedAt) {
    etaMs = estimateEta(now - Date.parse(run.startedAt), epoch, total);
  }
  return { epoch, total, fraction, etaMs };
}

/** How long the run has been going (or went); null before it started. */
export function runDuration(run: RunRecord, now: number): number | null {
  if (!run.startedAt) return null;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  return Math.max(0, end - Date.parse(run.startedAt));
}
