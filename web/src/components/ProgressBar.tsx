import type { RunRecord } from "../api/types";
import { formatDuration } from "../lib/format";
import { progressOf } from "../lib/progress";

interface Props {
  run: RunRecord;
  /** The shared clock (useNow), passed in so that rows tick together and tests can pin it. */
  now: number;
}

/** epoch / total_epochs (or a progress bar's steps) as a real progressbar, with percent and
 * ETA beside it. */
export function ProgressBar({ run, now }: Props) {
  const { epoch, total, unit, fraction, etaMs } = progressOf(run, now);
  const known = fraction !== null && epoch !== null && total !== null;
  const done = !known && run.status === "completed";
  const percent = known ? Math.round(fraction * 100) : done ? 100 : null;
  const parts = known ? [`${epoch} / ${total}`, `${percent}%`] : [];
  if (etaMs !== null) parts.push(`ETA ${formatDuration(etaMs)}`);
  const text = parts.length ? parts.join(" · ") : run.status === "queued" ? "waiting" : "—";
  // Without total_epochs the bar is indeterminate, which ARIA expresses by leaving out valuenow.
  const indeterminate = percent === null;
  return (
    <div className="progress">
      <div
        role="progressbar"
        className={`progress-track${indeterminate && run.status === "running" ? " progress-busy" : ""}`}
        data-testid={`progress-${run.id}`}
        aria-label={`Progress of run ${run.id}`}
        aria-valuemin={0}
        aria-valuemax={known ? total : done ? 1 : 100}
        aria-valuenow={known ? epoch : done ? 1 : undefined}
        aria-valuetext={known ? `${unit} ${text}` : undefined}
      >
        <div className={`progress-fill progress-fill-${run.status}`} style={{ width: `${percent ?? 0}%` }} />
      </div>
      <span className="progress-text" data-testid={`progress-text-${run.id}`}>
        {text}
      </span>
    </div>
  );
}
