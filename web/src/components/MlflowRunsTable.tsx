import { Link } from "react-router";
import type { MlflowRun } from "../api/types";
import { formatDateTime, formatDuration, formatValue } from "../lib/format";
import { columnKeys, mlflowRunDuration } from "../lib/mlflowView";
import { useNow } from "../lib/useNow";
import { MlflowStatusBadge } from "./MlflowStatusBadge";

interface Props {
  runs: readonly MlflowRun[];
  selected: ReadonlySet<string>;
  canSelectMore: boolean;
  onToggle: (runId: string, on: boolean) => void;
  /** Shown right after the status, before the params (see primaryMetricKey). */
  primaryMetric: string | null;
}

function MetricCell({ run, metric }: { run: MlflowRun; metric: string }) {
  return (
    <td className="numeric" data-testid={`mlflow-metric-${run.id}-${metric}`}>
      {metric in run.metrics ? formatValue(run.metrics[metric]) : <span className="muted">—</span>}
    </td>
  );
}

/** An experiment's runs, newest first: one column per param and per metric (latest value).
 * Columns in priority order: the run, its status and the primary metric first, so that a
 * phone shows them without scrolling sideways; `col-secondary` ones are hidden there. */
export function MlflowRunsTable({ runs, selected, canSelectMore, onToggle, primaryMetric }: Props) {
  const now = useNow();
  const params = columnKeys(runs, "params");
  const metrics = columnKeys(runs, "metrics").filter((key) => key !== primaryMetric);
  const lead = primaryMetric ? 4 : 3;
  return (
    <div className="table-scroll">
      <table className="runs-table" data-testid="mlflow-runs-table">
        <thead>
          <tr>
            <th scope="colgroup" colSpan={lead} />
            <th scope="colgroup" colSpan={3} className="col-secondary" />
            {params.length > 0 && (
              <th scope="colgroup" colSpan={params.length} className="group-head">
                Params
              </th>
            )}
            {metrics.length > 0 && (
              <th scope="colgroup" colSpan={metrics.length} className="group-head">
                {primaryMetric ? "Other metrics" : "Metrics"}
              </th>
            )}
          </tr>
          <tr>
            <th scope="col" className="col-select">
              Compare
            </th>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            {primaryMetric && (
              <th scope="col" data-testid="mlflow-primary-metric">
                {primaryMetric}
              </th>
            )}
            <th scope="col" className="col-secondary">
              Started
            </th>
            <th scope="col" className="col-secondary">
              Duration
            </th>
            <th scope="col" className="col-secondary">
              VTM run
            </th>
            {params.map((key) => (
              <th scope="col" key={`p-${key}`} className="group-start-param">
                {key}
              </th>
            ))}
            {metrics.map((key) => (
              <th scope="col" key={`m-${key}`}>
                {key}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const checked = selected.has(run.id);
            return (
              <tr key={run.id} data-testid={`mlflow-run-row-${run.id}`}>
                <td className="col-select">
                  <input
                    type="checkbox"
                    checked={checked}
                    disabled={!checked && !canSelectMore}
                    onChange={(e) => onToggle(run.id, e.target.checked)}
                    aria-label={`Compare MLflow run ${run.name ?? run.id}`}
                    data-testid={`mlflow-compare-${run.id}`}
                  />
                </td>
                <td className="run-name-cell">
                  <Link
                    to={`/mlflow/runs/${encodeURIComponent(run.id)}`}
                    data-testid={`mlflow-run-link-${run.id}`}
                  >
                    {run.name ?? run.id}
                  </Link>{" "}
                  <span className="muted mono small run-short-id">{run.id.slice(0, 8)}</span>
                </td>
                <td>
                  <MlflowStatusBadge status={run.status} />
                </td>
                {primaryMetric && <MetricCell run={run} metric={primaryMetric} />}
                <td className="col-secondary">{formatDateTime(run.startTime)}</td>
                <td className="col-secondary">{formatDuration(mlflowRunDuration(run, now))}</td>
                <td className="col-secondary">
                  {run.vtmRunId ? (
                    <Link to={`/runs/${encodeURIComponent(run.vtmRunId)}`} className="mono small">
                      {run.vtmRunId}
                    </Link>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                {params.map((key) => (
                  <td key={`p-${key}`} className="mono small">
                    {run.params[key] ?? <span className="muted">—</span>}
                  </td>
                ))}
                {metrics.map((key) => (
                  <MetricCell key={`m-${key}`} run={run} metric={key} />
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
