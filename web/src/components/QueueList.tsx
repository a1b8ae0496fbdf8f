import { Link } from "react-router";
import { describeError } from "../api/errors";
import { useStopRun } from "../api/queries";
import type { RunRecord, Task } from "../api/types";
import { formatDateTime, formatDuration, formatEstimate } from "../lib/format";
import { PriorityControl } from "./PriorityControl";

/** The queued runs in the order they will start: by queue position, unplaced ones last. */
export function queueOrder(runs: readonly RunRecord[]): RunRecord[] {
  const position = (run: RunRecord) => run.queue?.position ?? Number.POSITIVE_INFINITY;
  return runs
    .filter((run) => run.status === "queued")
    .sort((a, b) => position(a) - position(b) || Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

/** Cancels a queued run at once: it has not started, so nothing of it is lost but its place. */
function CancelButton({ run }: { run: RunRecord }) {
  const stop = useStopRun();
  return (
    <div className="stop">
      <button
        type="button"
        className="button danger-outline small"
        data-testid="queue-cancel"
        title={`Cancel run ${run.id}`}
        disabled={run.stopRequested || stop.isPending}
        onClick={() => stop.mutate(run.id)}
      >
        {stop.isPending ? "Cancelling…" : "Cancel"}
      </button>
      {stop.isError && (
        <p className="error-text" role="alert">
          {describeError(stop.error)}
        </p>
      )}
    </div>
  );
}

interface RowProps {
  run: RunRecord;
  task: Task | undefined;
  now: number;
}

function QueueRow({ run, task, now }: RowProps) {
  const queue = run.queue;
  return (
    <li className="queue-row" data-testid={`queue-row-${run.id}`} data-position={queue?.position ?? ""}>
      <span className="queue-position" data-testid="queue-position" aria-label="Position">
        {queue ? `#${queue.position}` : "—"}
      </span>
      <div className="queue-main">
        <div className="run-row-head">
          <span className="run-title">{task?.title ?? run.taskId}</span>
          <Link to={`/runs/${run.id}`} className="run-id mono" data-testid="queue-run-link">
            {run.id}
          </Link>
        </div>
        <p className="queue-reason" data-testid="queue-reason">
          {queue?.reason ?? "Waiting for the scheduler."}
        </p>
        <dl className="facts">
          <div>
            <dt>Estimated start</dt>
            <dd data-testid="queue-estimate">{formatEstimate(queue?.estimatedStartAt ?? null, now)}</dd>
          </div>
          <div>
            <dt>Waiting for</dt>
            <dd title={`queued ${formatDateTime(run.createdAt)}`}>
              {formatDuration(now - Date.parse(run.createdAt))}
            </dd>
          </div>
        </dl>
      </div>
      <PriorityControl run={run} />
      <CancelButton run={run} />
    </li>
  );
}

interface Props {
  runs: readonly RunRecord[];
  tasks: ReadonlyMap<string, Task>;
  now: number;
}

/** The live page's queue: where each waiting run stands, why, and when it should start. */
export function QueueList({ runs, tasks, now }: Props) {
  const queued = queueOrder(runs);
  if (queued.length === 0) {
    return (
      <p className="muted" data-testid="queue-empty">
        No run is waiting.
      </p>
    );
  }
  return (
    <ol className="run-list" data-testid="queue">
      {queued.map((run) => (
        <QueueRow key={run.id} run={run} task={tasks.get(run.taskId)} now={now} />
      ))}
    </ol>
  );
}
