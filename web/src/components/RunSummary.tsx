import type { RunRecord, Task } from "../api/types";
import { formatDuration, formatEnergy, formatEstimate, formatValue } from "../lib/format";
import { primaryMetric } from "../lib/metrics";
import { runDuration } from "../lib/progress";
import { useNow } from "../lib/useNow";
import { MlflowLink } from "./MlflowLink";
import { PriorityControl } from "./PriorityControl";
import { ProgressBar } from "./ProgressBar";
import { StatusTimeline } from "./StatusTimeline";

/** A queued run's place in the queue, why it waits, when it should start, and its priority. */
function QueueFacts({ run, now }: { run: RunRecord; now: number }) {
  const queue = run.queue;
  return (
    <div className="run-queue" data-testid="run-queue">
      <p>
        <strong data-testid="run-queue-position">
          {queue ? `#${queue.position} in the queue` : "Waiting in the queue"}
        </strong>
        {queue && (
          <>
            {": "}
            <span data-testid="run-queue-reason">{queue.reason}</span>
          </>
        )}
      </p>
      <p>
        <span className="muted">Estimated start: </span>
        <span data-testid="run-queue-estimate">{formatEstimate(queue?.estimatedStartAt ?? null, now)}</span>
      </p>
      <PriorityControl run={run} />
    </div>
  );
}

/** Where the run stands: progress, timeline, outcome, and where else it is recorded. */
export function RunSummary({ run, task }: { run: RunRecord; task: Task | undefined }) {
  const now = useNow();
  const metric = primaryMetric(run, task);
  return (
    <section aria-labelledby="summary-heading" className="card">
      <h2 id="summary-heading">Status</h2>
      <ProgressBar run={run} now={now} />
      <StatusTimeline run={run} now={now} />
      {run.status === "queued" && <QueueFacts run={run} now={now} />}
      {run.error && (
        <p className="notice notice-error" data-testid="run-error">
          {run.error}
        </p>
      )}
      <dl className="facts">
        <div>
          <dt>Exit code</dt>
          <dd data-testid="run-exit-code">{run.exitCode ?? "—"}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(runDuration(run, now))}</dd>
        </div>
        {metric.name && (
          <div>
            <dt>{metric.name}</dt>
            <dd data-testid="primary-metric">{metric.text}</dd>
          </div>
        )}
        <div>
          <dt>Device</dt>
          <dd>{formatValue(run.progress.device)}</dd>
        </div>
        <div>
          <dt>Where</dt>
          <dd data-testid="run-where">
            {run.executor === "ray" ? "Ray cluster" : "this server"}
            {run.host ? `, on ${run.host}` : ""}
          </dd>
        </div>
        <div>
          <dt>GPUs</dt>
          <dd>{run.gpus.length ? run.gpus.join(", ") : "none"}</dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd data-testid="run-priority">{run.priority}</dd>
        </div>
        <div>
          <dt>GPU-hours</dt>
          <dd data-testid="run-gpu-hours">{formatValue(run.gpuHours)}</dd>
        </div>
        <div>
          <dt>Energy</dt>
          <dd data-testid="run-energy">{formatEnergy(run.energyWh)}</dd>
        </div>
        {run.cost !== null && (
          <div>
            <dt>Cost</dt>
            <dd data-testid="run-cost">{run.cost.toFixed(2)}</dd>
          </div>
        )}
        <div>
          <dt>MLflow run</dt>
          <dd>
            <MlflowLink run={run} />
          </dd>
        </div>
        <div>
          <dt>Output lines</dt>
          <dd>
            {run.lineCount}
            {run.protocolErrors > 0 && ` (${run.protocolErrors} malformed protocol lines)`}
          </dd>
        </div>
      </dl>
    </section>
  );
}
