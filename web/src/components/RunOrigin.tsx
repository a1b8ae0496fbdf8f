import { Link } from "react-router";
import { useServerConfig } from "../api/queries";
import type { RunRecord } from "../api/types";
import { formatDateTime } from "../lib/format";
import { airflowTaskUrl } from "../lib/pipelines";

/** Where a run not started by a person came from: an Airflow task try (with links to it in
 * Airflow and to the previous try's run) and/or `vtm exec` on some host. */
export function RunOrigin({ run }: { run: RunRecord }) {
  const config = useServerConfig();
  const origin = run.origin;
  const airflow = origin.airflow;
  const airflowUrl = config.data?.airflowUrl;
  // A person's run (UI, CLI, API) is the usual case: nothing to add.
  if (origin.kind === "person" && !airflow) return null;
  return (
    <section
      aria-labelledby="origin-heading"
      className="card run-origin"
      data-testid="run-origin"
      data-kind={origin.kind}
    >
      <h2 id="origin-heading">{airflow ? "Started by Airflow" : "Started with vtm exec"}</h2>
      <dl className="facts">
        {airflow && (
          <>
            <div>
              <dt>DAG</dt>
              <dd className="mono" data-testid="run-origin-dag">
                <Link to="/pipelines">{airflow.dagId}</Link>
              </dd>
            </div>
            <div>
              <dt>DAG run</dt>
              <dd className="mono" data-testid="run-origin-dag-run">
                {airflow.runId}
              </dd>
            </div>
            <div>
              <dt>Task</dt>
              <dd className="mono" data-testid="run-origin-task">
                {airflow.taskId}
                {airflow.mapIndex >= 0 && ` [${airflow.mapIndex}]`}
              </dd>
            </div>
            <div>
              <dt>Try</dt>
              <dd data-testid="run-origin-try">{airflow.tryNumber}</dd>
            </div>
            <div>
              <dt>Logical date</dt>
              <dd data-testid="run-origin-logical-date">
                {airflow.logicalDate ? formatDateTime(airflow.logicalDate) : "—"}
              </dd>
            </div>
          </>
        )}
        {origin.host && (
          <div>
            <dt>Host</dt>
            <dd className="mono" data-testid="run-origin-host">
              {origin.host}
            </dd>
          </div>
        )}
      </dl>
      {(origin.previousTryRunId || (airflow && airflowUrl)) && (
        <nav className="run-links" aria-label="Related">
          {origin.previousTryRunId && (
            <Link
              className="button small"
              to={`/runs/${encodeURIComponent(origin.previousTryRunId)}`}
              data-testid="run-previous-try"
            >
              Previous try
            </Link>
          )}
          {airflow && airflowUrl && (
            <a
              className="button small"
              href={airflowTaskUrl(airflowUrl, airflow)}
              target="_blank"
              rel="noreferrer"
              data-testid="run-origin-airflow-link"
            >
              Task in Airflow ↗
            </a>
          )}
        </nav>
      )}
    </section>
  );
}
