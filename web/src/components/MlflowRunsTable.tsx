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
}

/** An experiment's runs, newest first: one column per param and per metric (latest value). */
export function MlflowRunsTable({ runs, selected, canSelectMore, onToggle }: Props) {
  const now = useNow();
  const params = columnKeys(runs, "params");
  const metrics = columnKeys(runs, "metrics");
  return (
    <div className="table-scroll">
      <table className="runs-table" data-testid="mlflow-runs-table">
        <thead>
          <tr>
            <th scope="colgroup" colSpan={6} />
            {params.length > 0 && (
              <th scope="colgroup" colSpan={params.length} className="group-head">
                Params
              </th>
            )}
            {metrics.length > 0 && (
              <th scope="colgroup" colSpan={metrics.length} className="group-head">
                Metrics
              </th>
            )}
          </tr>
          <tr>
            <th scope="col">Compare</th>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">VTM run</th>
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
                <td>
                  <input
                    type="checkbox"
                    checked={checked}
                    disabled={!checked && !canSelectMore}
                    onChange={(e) => onToggle(run.id, e.target.checked)}
                    aria-label={`Compare MLflow run ${run.name ?? run.id}`}
                    data-testid={`mlflow-compare-${run.id}`}
                  />
                </td>
                <td>
                  <Link
                    to={`/mlflow/runs/${encodeURIComponent(run.id)}`}
                    data-testid={`mlflow-run-link-${run.id}`}
                  >
                    {run.name ?? run.id}
                  </Link>{" "}
                  <span className="muted mono small">{run.id.slice(0, 8)}</span>
                </td>
                <td>
                  <MlflowStatusBadge status={run.status} />
                </td>
                <td>{formatDateTime(run.startTime)}</td>
                <td>{formatDuration(mlflowRunDuration(run, now))}</td>
                <td>
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
                  <td key={`m-${key}`} className="numeric" data-testid={`mlflow-metric-${run.id}-${key}`}>
                    {key in run.metrics ? formatValue(run.metrics[key]) : <span className="muted">—</span>}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
