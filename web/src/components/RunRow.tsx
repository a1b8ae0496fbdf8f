import { Link } from "react-router";
import { isActive, type RunRecord, type Task } from "../api/types";
import { formatDateTime, formatDuration, formatValue } from "../lib/format";
import { primaryMetric } from "../lib/metrics";
import { runDuration } from "../lib/progress";
import { ProgressBar } from "./ProgressBar";
import { StatusBadge } from "./StatusBadge";
import { StopButton } from "./StopButton";

interface Props {
  run: RunRecord;
  task: Task | undefined;
  now: number;
}

/** One run on the live page: what it is, how far it got, and a way to stop it. */
export function RunRow({ run, task, now }: Props) {
  const metric = primaryMetric(run, task);
  return (
    <li className="run-row" data-testid={`run-row-${run.id}`}>
      <div className="run-row-head">
        <Link to={`/runs/${run.id}`} className="run-title">
          {task?.title ?? run.taskId}
        </Link>
        <StatusBadge status={run.status} />
        <span className="run-id mono">{run.id}</span>
      </div>
      <ProgressBar run={run} now={now} />
      <dl className="facts">
        <div>
          <dt>{metric.name ?? "Primary metric"}</dt>
          <dd data-testid="primary-metric">{metric.text}</dd>
        </div>
        <div>
          <dt>Device</dt>
          <dd data-testid="run-device">{formatValue(run.progress.device)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDateTime(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd data-testid="run-duration">{formatDuration(runDuration(run, now))}</dd>
        </div>
      </dl>
      <div className="run-row-actions">{isActive(run.status) && <StopButton run={run} />}</div>
    </li>
  );
}
