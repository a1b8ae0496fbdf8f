import { useMemo, useState } from "react";
import { Link } from "react-router";
import { useMetricHistories, useMlflowCompare } from "../api/mlflowQueries";
import type { CompareRow, MlflowRun } from "../api/types";
import { formatValue } from "../lib/format";
import { historySeries } from "../lib/mlflowView";
import { ErrorNotice } from "./ErrorNotice";
import { LineChart } from "./LineChart";

function CompareTable({
  title,
  rows,
  runs,
  testId,
  highlight,
}: {
  title: string;
  rows: readonly CompareRow[];
  runs: readonly MlflowRun[];
  testId: string;
  highlight: boolean;
}) {
  if (rows.length === 0) return null;
  return (
    <div className="table-scroll">
      <table className="runs-table compare-table" data-testid={testId}>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{title === "Params" ? "Param" : "Metric"}</th>
            {runs.map((run) => (
              <th scope="col" key={run.id}>
                {run.name ?? run.id.slice(0, 8)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={row.key}
              className={highlight && row.differs ? "differs" : undefined}
              data-testid={`${testId}-${row.key}`}
              data-differs={String(row.differs)}
            >
              <th scope="row">
                {row.key}
                {highlight && row.differs && <span className="visually-hidden"> (differs)</span>}
              </th>
              {runs.map((run) => (
                <td key={run.id} className="mono small">
                  {formatValue(row.values[run.id] ?? null)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Params side by side (rows where the runs differ highlighted), latest metrics, and one
 * metric's history of every picked run on one chart. */
export function MlflowComparePanel({ runIds, onClear }: { runIds: readonly string[]; onClear: () => void }) {
  const comparison = useMlflowCompare(runIds);
  const data = comparison.data;
  const runs = useMemo(() => data?.runs ?? [], [data]);
  const names = useMemo(() => (data?.metrics ?? []).map((row) => row.key), [data]);
  const [picked, setPicked] = useState("");
  const metric = names.includes(picked) ? picked : (names[0] ?? "");
  const pairs = useMemo(
    () => (metric ? runs.map((run) => ({ runId: run.id, key: metric })) : []),
    [runs, metric],
  );
  const histories = useMetricHistories(pairs, false);
  const series = useMemo(
    () => runs.map((run, i) => historySeries(run.name ?? run.id.slice(0, 8), histories.data[i])),
    [runs, histories.data],
  );
  const differing = (data?.params ?? []).filter((row) => row.differs).length;

  return (
    <section className="card compare" aria-labelledby="mlflow-compare-heading" data-testid="mlflow-compare">
      <div className="page-head">
        <h2 id="mlflow-compare-heading">Compare {runIds.length} runs</h2>
        <button type="button" className="button small" onClick={onClear} data-testid="mlflow-compare-clear">
          Clear
        </button>
      </div>
      {runIds.length < 2 && <p className="muted">Pick at least one more run to compare.</p>}
      {comparison.isError && <ErrorNotice error={comparison.error} what="The runs could not be compared." />}
      {data && runIds.length >= 2 && (
        <>
          <p className="muted" data-testid="mlflow-compare-summary">
            {differing === 0
              ? "Every param is the same in these runs."
              : `${differing} of ${data.params.length} params differ (highlighted).`}{" "}
            {runs.map((run, i) => (
              <span key={run.id}>
                {i > 0 && " · "}
                <Link to={`/mlflow/runs/${encodeURIComponent(run.id)}`}>{run.name ?? run.id}</Link>
              </span>
            ))}
          </p>
          <div className="compare-grid">
            <CompareTable
              title="Params"
              rows={data.params}
              runs={runs}
              testId="mlflow-compare-param"
              highlight
            />
            <CompareTable
              title="Metrics"
              rows={data.metrics}
              runs={runs}
              testId="mlflow-compare-metric-row"
              highlight={false}
            />
          </div>
          {names.length > 0 ? (
            <>
              <label>
                Metric{" "}
                <select
                  value={metric}
                  onChange={(e) => setPicked(e.target.value)}
                  data-testid="mlflow-compare-metric"
                >
                  {names.map((name) => (
                    <option key={name}>{name}</option>
                  ))}
                </select>
              </label>
              {histories.error && (
                <ErrorNotice error={histories.error} what="A metric history could not be loaded." />
              )}
              <LineChart
                title={metric}
                series={series}
                xLabel="step"
                height={300}
                testId="mlflow-compare-chart"
              />
            </>
          ) : (
            <p className="muted">These runs logged no metrics.</p>
          )}
        </>
      )}
    </section>
  );
}
