import type { Pipeline, PipelineStatus } from "../api/types";
import { formatDateTime, formatDay } from "../lib/format";
import {
  airflowDagUrl,
  describeSchedule,
  formatSeconds,
  orderedSteps,
  stepAction,
  stepFields,
  stepPlace,
} from "../lib/pipelines";
import { DagRunsTable } from "./DagRunsTable";
import { InlineCode } from "./InlineCode";

/** Where Airflow stands with a pipeline; nothing, not even its heading, when VTM cannot ask
 * Airflow (the page says why once, above the pipelines). */
function AirflowSide({
  id,
  status,
  stepOrder,
  airflowUrl,
  now,
}: {
  id: string;
  status: PipelineStatus | undefined;
  stepOrder: readonly string[];
  airflowUrl: string | null;
  now: number;
}) {
  if (!status) return null;
  let body;
  if (!status.inAirflow) {
    body = (
      <p className="muted" data-testid={`pipeline-not-in-airflow-${id}`}>
        Airflow has no DAG <span className="mono">{id}</span> (yet): its DAGs folder needs the DAG file that
        reads this catalog, and Airflow parses new files within a few minutes.
      </p>
    );
  } else if (status.dagRuns.length === 0) {
    body = (
      <p className="muted" data-testid={`pipeline-no-runs-${id}`}>
        No DAG runs yet. A new DAG starts paused in Airflow: unpause it there, or trigger it.
      </p>
    );
  } else {
    body = (
      <DagRunsTable
        pipelineId={id}
        runs={status.dagRuns}
        stepOrder={stepOrder}
        airflowUrl={airflowUrl}
        now={now}
      />
    );
  }
  return (
    <>
      <h3 data-testid={`pipeline-dag-runs-heading-${id}`}>Latest DAG runs</h3>
      {body}
    </>
  );
}

/** One pipeline of the catalog: its schedule and steps, and its latest DAG runs in Airflow. */
export function PipelineCard({
  id,
  pipeline,
  status,
  airflowUrl,
  now,
}: {
  id: string;
  pipeline: Pipeline;
  status: PipelineStatus | undefined;
  airflowUrl: string | null;
  now: number;
}) {
  const steps = orderedSteps(pipeline);
  const headingId = `pipeline-heading-${id}`;
  return (
    <section className="card pipeline" aria-labelledby={headingId} data-testid={`pipeline-${id}`}>
      <div className="page-head">
        <h2 id={headingId} className="mono">
          {id}
        </h2>
        {airflowUrl && status?.inAirflow && (
          <a
            className="button small"
            href={airflowDagUrl(airflowUrl, id)}
            target="_blank"
            rel="noreferrer"
            data-testid={`pipeline-dag-link-${id}`}
          >
            DAG in Airflow ↗
          </a>
        )}
      </div>
      {pipeline.description && (
        <p>
          <InlineCode text={pipeline.description} />
        </p>
      )}
      <dl className="facts">
        <div>
          <dt>Schedule</dt>
          <dd data-testid={`pipeline-schedule-${id}`}>
            {describeSchedule(pipeline.schedule)}
            {pipeline.schedule && <span className="mono muted small"> ({pipeline.schedule})</span>}
          </dd>
        </div>
        {pipeline.nextRunAt && (
          <div>
            <dt>Next run</dt>
            <dd data-testid={`pipeline-next-run-${id}`}>{formatDateTime(pipeline.nextRunAt)}</dd>
          </div>
        )}
        <div>
          <dt>Start date</dt>
          <dd>{formatDay(pipeline.startDate)}</dd>
        </div>
        <div>
          <dt>Catch-up</dt>
          <dd>{pipeline.catchup ? "yes" : "no"}</dd>
        </div>
        <div>
          <dt>Retries</dt>
          <dd>
            {pipeline.retries}
            {pipeline.retries > 0 && ` after ${formatSeconds(pipeline.retryDelay)}`}
          </dd>
        </div>
      </dl>
      <h3>Steps</h3>
      <div className="table-scroll">
        <table className="runs-table" data-testid={`pipeline-steps-${id}`}>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Kind</th>
              <th scope="col">Does</th>
              <th scope="col">Fields</th>
              <th scope="col">After</th>
              <th scope="col">Runs on</th>
              <th scope="col">Retries</th>
            </tr>
          </thead>
          <tbody>
            {steps.map(([stepId, step]) => (
              <tr key={stepId} data-testid={`pipeline-step-${id}-${stepId}`} data-kind={step.kind}>
                <td className="mono">{stepId}</td>
                <td>{step.kind}</td>
                <td className="wrap">{stepAction(step)}</td>
                <td className="mono small wrap">{stepFields(step) || "—"}</td>
                <td className="mono">{step.dependsOn?.length ? step.dependsOn.join(", ") : "—"}</td>
                <td className="small" data-testid={`pipeline-step-where-${id}-${stepId}`}>
                  {stepPlace(step)}
                </td>
                <td>
                  {step.retries ?? <span className="muted">{pipeline.retries}</span>}
                  {step.timeout != null && (
                    <span className="muted small"> · timeout {formatSeconds(step.timeout)}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <AirflowSide
        id={id}
        status={status}
        stepOrder={steps.map(([stepId]) => stepId)}
        airflowUrl={airflowUrl}
        now={now}
      />
    </section>
  );
}
