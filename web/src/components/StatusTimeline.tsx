import type { RunRecord } from "../api/types";
import { formatDateTime, formatDuration } from "../lib/format";

interface Step {
  label: string;
  at: string | null;
  state: "done" | "current" | "pending";
}

function steps(run: RunRecord): Step[] {
  const finished = run.finishedAt !== null;
  const ending = finished ? run.status : run.stopRequested ? "stopping" : "finished";
  return [
    { label: "queued", at: run.createdAt, state: run.status === "queued" ? "current" : "done" },
    {
      label: "running",
      at: run.startedAt,
      state: run.status === "running" ? "current" : run.startedAt ? "done" : "pending",
    },
    { label: ending, at: run.finishedAt, state: finished ? "done" : "pending" },
  ];
}

/** queued → running → completed / failed / stopped, with when and how long each took. */
export function StatusTimeline({ run, now }: { run: RunRecord; now: number }) {
  const list = steps(run);
  return (
    <ol className="timeline" data-testid="status-timeline">
      {list.map((step, i) => {
        const next = list[i + 1];
        const end = next?.at ? Date.parse(next.at) : step.state === "current" ? now : null;
        const took = step.at && end !== null && next ? formatDuration(end - Date.parse(step.at)) : null;
        return (
          <li key={step.label} className={`timeline-step timeline-${step.state} status-${step.label}`}>
            <span className="timeline-label">{step.label}</span>
            <span className="muted">
              {step.at ? formatDateTime(step.at) : "—"}
              {took && ` · ${took}`}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
