import { Link } from "react-router";
import type { DagRun, DagTask } from "../api/types";
import { formatDateTime, formatDuration } from "../lib/format";
import { airflowDagRunUrl, airflowTaskUrl } from "../lib/pipelines";
import { AirflowState } from "./AirflowState";

function durationMs(run: DagRun, now: number): number | null {
  if (!run.startDate) return null;
  const end = run.endDate ? Date.parse(run.endDate) : now;
  return end - Date.parse(run.startDate);
}

/** Tasks in the pipeline's step order; any other task (Airflow's own) after them. */
function inStepOrder(tasks: DagTask[], order: readonly string[]): DagTask[] {
  const rank = (t: DagTask) => {
    const i = order.indexOf(t.taskId);
    return i < 0 ? order.length : i;
  };
  return [...tasks].sort((a, b) => rank(a) - rank(b));
}

function TaskChip({
  task,
  dagId,
  runId,
  airflowUrl,
}: {
  task: DagTask;
  dagId: string;
  runId: string;
  airflowUrl: string | null;
}) {
  return (
    <li className="dag-task" data-testid={`dag-task-${task.taskId}`} data-state={task.state ?? "none"}>
      <span className="mono">{task.taskId}</span> <AirflowState state={task.state} />
      {task.tryNumber > 1 && <span className="muted small"> try {task.tryNumber}</span>}
      {task.hostname ? (
        // Where Airflow ran the try: the worker, and the queue that sent it there.
        <span className="muted small" data-testid={`dag-task-where-${task.taskId}`}>
          {" "}
          on <span className="mono">{task.hostname}</span>
          {task.queue && (
            <>
              {" "}
              (queue <span className="mono">{task.queue}</span>)
            </>
          )}
        </span>
      ) : (
        // Not run (yet): the queue it waits on says which workers could take it.
        task.queue &&
        (task.state === "queued" || task.state === "scheduled") && (
          <span className="muted small" data-testid={`dag-task-where-${task.taskId}`}>
            {" "}
            waiting on queue <span className="mono">{task.queue}</span>
          </span>
        )
      )}
      {task.vtmRunId && (
        <>
          {" "}
          <Link to={`/runs/${encodeURIComponent(task.vtmRunId)}`} data-testid={`dag-task-run-${task.taskId}`}>
            VTM run
          </Link>
        </>
      )}
      {airflowUrl && (
        <>
          {" "}
          <a
            className="small"
            href={airflowTaskUrl(airflowUrl, {
              dagId,
              runId,
              taskId: task.taskId,
              tryNumber: task.tryNumber,
            })}
            target="_blank"
            rel="noreferrer"
            data-testid={`dag-task-airflow-${task.taskId}`}
            aria-label={`${task.taskId} in Airflow`}
          >
            Airflow ↗
          </a>
        </>
      )}
      {task.note && (
        // Why a publish step was skipped: the model did not pass its floor or gate.
        <div className="muted small dag-task-note" data-testid={`dag-task-note-${task.taskId}`}>
          {task.note}
        </div>
      )}
    </li>
  );
}

/** A pipeline's latest DAG runs, newest first, each with its tasks and the VTM run behind each. */
export function DagRunsTable({
  pipelineId,
  runs,
  stepOrder,
  airflowUrl,
  now,
}: {
  pipelineId: string;
  runs: DagRun[];
  stepOrder: readonly string[];
  airflowUrl: string | null;
  now: number;
}) {
  return (
    <div className="table-scroll">
      <table className="runs-table dag-runs" data-testid={`pipeline-dag-runs-${pipelineId}`}>
        <thead>
          <tr>
            <th scope="col">DAG run</th>
            <th scope="col">State</th>
            <th scope="col">Logical date</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Tasks</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.runId} data-testid={`dag-run-${run.runId}`} data-state={run.state}>
              <td className="mono small">
                {airflowUrl ? (
                  <a
                    href={airflowDagRunUrl(airflowUrl, pipelineId, run.runId)}
                    target="_blank"
                    rel="noreferrer"
                  >
                    {run.runId}
                  </a>
                ) : (
                  run.runId
                )}
                {run.runType && <div className="muted">{run.runType}</div>}
              </td>
              <td>
                <AirflowState state={run.state} testId="dag-run-state" />
              </td>
              <td>{formatDateTime(run.logicalDate)}</td>
              <td>{formatDateTime(run.startDate)}</td>
              <td>{formatDuration(durationMs(run, now))}</td>
              <td className="wrap">
                <ul className="dag-tasks">
                  {inStepOrder(run.tasks, stepOrder).map((task) => (
                    <TaskChip
                      key={task.taskId}
                      task={task}
                      dagId={pipelineId}
                      runId={run.runId}
                      airflowUrl={airflowUrl}
                    />
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
