import { Link, useParams } from "react-router";
import { HttpError } from "../api/errors";
import { useMlflowRun, useMlflowStatus } from "../api/mlflowQueries";
import type { LoggedModel, MlflowRun } from "../api/types";
import { ArtifactBrowser } from "../components/ArtifactBrowser";
import { ErrorNotice } from "../components/ErrorNotice";
import { MlflowHeader } from "../components/MlflowHeader";
import { MlflowMetricCharts } from "../components/MlflowMetricCharts";
import { MlflowStatusBadge } from "../components/MlflowStatusBadge";
import { formatDateTime, formatDuration, formatValue } from "../lib/format";
import { mlflowRunUrl } from "../lib/mlflow";
import { isSystemTag, mlflowRunDuration } from "../lib/mlflowView";
import { useDocumentTitle } from "../lib/useDocumentTitle";
import { useNow } from "../lib/useNow";

function KeyValues({ values, testId, empty }: { values: [string, string][]; testId: string; empty: string }) {
  if (values.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table className="kv" data-testid={testId}>
      <tbody>
        {values.map(([key, value]) => (
          <tr key={key} data-key={key}>
            <th scope="row">{key}</th>
            <td className="mono">{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function sorted(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

function RunFacts({ run, experimentName }: { run: MlflowRun; experimentName: string }) {
  const now = useNow();
  const status = useMlflowStatus();
  const ui = status.data?.uiUrl;
  return (
    <dl className="facts">
      <div>
        <dt>Experiment</dt>
        <dd>
          <Link to={`/mlflow/experiments/${encodeURIComponent(run.experimentId)}`}>{experimentName}</Link>
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>{formatDateTime(run.startTime)}</dd>
      </div>
      <div>
        <dt>Ended</dt>
        <dd>{formatDateTime(run.endTime)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>{formatDuration(mlflowRunDuration(run, now))}</dd>
      </div>
      <div>
        <dt>User</dt>
        <dd>{run.userId || "—"}</dd>
      </div>
      <div>
        <dt>VTM run</dt>
        <dd>
          {run.vtmRunId ? (
            <Link
              to={`/runs/${encodeURIComponent(run.vtmRunId)}`}
              className="mono"
              data-testid="mlflow-vtm-run"
            >
              {run.vtmRunId}
            </Link>
          ) : (
            "—"
          )}
        </dd>
      </div>
      {ui && (
        <div>
          <dt>MLflow UI</dt>
          <dd>
            <a
              href={mlflowRunUrl(ui, run.id, { mlflow_experiment_id: run.experimentId })}
              target="_blank"
              rel="noreferrer"
            >
              open ↗
            </a>
          </dd>
        </div>
      )}
    </dl>
  );
}

function LoggedModelCard({ model }: { model: LoggedModel }) {
  return (
    <section
      className="card"
      aria-label={`Logged model ${model.name}`}
      data-testid={`logged-model-${model.id}`}
    >
      <h3>
        {model.name} <span className="muted mono small">{model.id}</span>
      </h3>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>{model.status}</dd>
        </div>
        <div>
          <dt>URI</dt>
          <dd className="mono">{model.modelUri}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(model.creationTime)}</dd>
        </div>
        {model.modelType && (
          <div>
            <dt>Type</dt>
            <dd>{model.modelType}</dd>
          </div>
        )}
      </dl>
      <ArtifactBrowser owner={{ kind: "model", id: model.id }} testId={`model-artifacts-${model.id}`} />
    </section>
  );
}

/** One MLflow run: metric history charts, params, latest metrics, tags, its artifacts and the
 * models it logged. */
export function MlflowRunPage() {
  const { runId = "" } = useParams();
  const query = useMlflowRun(runId);
  const detail = query.data;
  useDocumentTitle(detail ? `${detail.run.name ?? runId} · MLflow` : "MLflow run");

  if (!detail) {
    return (
      <>
        <MlflowHeader title="MLflow run" />
        {query.error instanceof HttpError && query.error.isNotFound ? (
          <p className="notice notice-error" role="alert">
            There is no MLflow run <span className="mono">{runId}</span>.{" "}
            <Link to="/mlflow">All experiments</Link>
          </p>
        ) : query.isError ? (
          <ErrorNotice error={query.error} what="The run could not be loaded." />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </>
    );
  }
  const { run } = detail;
  const tags = sorted(run.tags);
  const userTags = tags.filter(([key]) => !isSystemTag(key));
  const systemTags = tags.filter(([key]) => isSystemTag(key));
  const metrics = Object.entries(run.metrics)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]): [string, string] => [key, formatValue(value)]);
  return (
    <>
      <MlflowHeader
        title={
          <>
            <span data-testid="mlflow-run-name">{run.name ?? run.id}</span>{" "}
            <MlflowStatusBadge status={run.status} />
          </>
        }
      />
      <p className="muted mono" data-testid="mlflow-run-id">
        {run.id}
      </p>
      <RunFacts run={run} experimentName={detail.experimentName} />
      <section aria-labelledby="mlflow-metrics-heading">
        <h2 id="mlflow-metrics-heading">Metrics</h2>
        <MlflowMetricCharts run={run} />
      </section>
      <div className="detail-grid">
        <section className="card" aria-labelledby="mlflow-params-heading">
          <h2 id="mlflow-params-heading">Params</h2>
          <KeyValues values={sorted(run.params)} testId="mlflow-params" empty="No params." />
        </section>
        <section className="card" aria-labelledby="mlflow-latest-heading">
          <h2 id="mlflow-latest-heading">Latest metrics</h2>
          <KeyValues values={metrics} testId="mlflow-metrics" empty="No metrics." />
        </section>
        <section className="card" aria-labelledby="mlflow-tags-heading">
          <h2 id="mlflow-tags-heading">Tags</h2>
          <KeyValues values={userTags} testId="mlflow-tags" empty="No tags of its own." />
          {systemTags.length > 0 && (
            <details>
              <summary className="muted">MLflow's tags ({systemTags.length})</summary>
              <KeyValues values={systemTags} testId="mlflow-system-tags" empty="" />
            </details>
          )}
        </section>
      </div>
      <section aria-labelledby="mlflow-artifacts-heading">
        <h2 id="mlflow-artifacts-heading">Artifacts</h2>
        <div className="card">
          <ArtifactBrowser owner={{ kind: "run", id: run.id }} testId="run-artifacts" />
        </div>
      </section>
      <section aria-labelledby="mlflow-models-heading">
        <h2 id="mlflow-models-heading">Logged models</h2>
        {detail.loggedModels.length === 0 ? (
          <p className="muted">This run logged no models.</p>
        ) : (
          <div className="stack">
            {detail.loggedModels.map((model) => (
              <LoggedModelCard key={model.id} model={model} />
            ))}
          </div>
        )}
      </section>
    </>
  );
}
