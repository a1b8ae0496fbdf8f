import { useMemo } from "react";
import { Link } from "react-router";
import { useRunsById, useRunsMetrics } from "../api/queries";
import type { RunRecord, Task } from "../api/types";
import type { ChartSeries } from "../lib/chartData";
import { compareFields, compareMetrics, lastValue } from "../lib/compare";
import { formatValue } from "../lib/format";
import { ErrorNotice } from "./ErrorNotice";
import { FieldValue } from "./FieldValue";
import { LineChart } from "./LineChart";

interface Props {
  runIds: readonly string[];
  tasks: ReadonlyMap<string, Task>;
  onClear: () => void;
}

function RunHead({ run, tasks }: { run: RunRecord; tasks: ReadonlyMap<string, Task> }) {
  return (
    <th scope="col">
      <Link to={`/runs/${encodeURIComponent(run.id)}`} className="mono">
        {run.id}
      </Link>
      <div className="muted small">{tasks.get(run.taskId)?.title ?? run.taskId}</div>
    </th>
  );
}

/** 2–4 runs side by side: their fields (the ones that differ highlighted), their last metric
 * values, and one chart per metric every one of them reported, all runs' curves on it. */
export function ComparePanel({ runIds, tasks, onClear }: Props) {
  const records = useRunsById(runIds);
  const metrics = useRunsMetrics(runIds);
  const runs = useMemo(() => records.data.filter((r): r is RunRecord => r !== undefined), [records.data]);
  const fields = useMemo(() => compareFields(runs), [runs]);
  const primary =
    runs.map((r) => tasks.get(r.taskId)?.primaryMetric?.name).find((name) => name !== undefined) ?? null;
  const names = useMemo(() => compareMetrics(metrics.data, primary), [metrics.data, primary]);
  const charts = useMemo(
    () =>
      names.shared.map((name) => ({
        name,
        series: runs.map((run) => ({
          label: `${run.id} · ${tasks.get(run.taskId)?.title ?? run.taskId}`,
          points: (metrics.data[runIds.indexOf(run.id)]?.series[name] ?? []).map((p) => ({
            x: p.step,
            y: p.value,
          })),
        })) satisfies ChartSeries[],
      })),
    [names.shared, runIds, runs, tasks, metrics.data],
  );
  const differing = fields.filter((row) => row.differs).length;
  const allNames = [...names.shared, ...names.partial];

  return (
    <section className="card compare" aria-labelledby="compare-heading" data-testid="compare-panel">
      <div className="page-head">
        <h2 id="compare-heading">Compare {runIds.length} runs</h2>
        <button type="button" className="button small" onClick={onClear} data-testid="compare-clear">
          Clear
        </button>
      </div>
      {records.error && <ErrorNotice error={records.error} what="A run could not be loaded." />}
      {runIds.length < 2 ? (
        <p className="muted">Pick one to three more runs to compare.</p>
      ) : (
        runs.length === runIds.length && (
          <>
            <p className="muted" data-testid="compare-summary">
              {differing === 0
                ? "Every field is the same in these runs."
                : `${differing} of ${fields.length} fields differ (highlighted).`}
            </p>
            <div className="compare-grid">
              <div className="table-scroll">
                <table className="runs-table compare-table" data-testid="compare-fields">
                  <caption>Fields</caption>
                  <thead>
                    <tr>
                      <th scope="col">Field</th>
                      {runs.map((run) => (
                        <RunHead key={run.id} run={run} tasks={tasks} />
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {fields.map((row) => (
                      <tr
                        key={row.name}
                        className={row.differs ? "differs" : undefined}
                        data-testid={`compare-field-${row.name}`}
                        data-differs={String(row.differs)}
                      >
                        <th scope="row">
                          {row.name}
                          {row.differs && <span className="visually-hidden"> (differs)</span>}
                        </th>
                        {runs.map((run) => (
                          <td key={run.id} className="mono small">
                            <FieldValue fields={run.fields} name={row.name} />
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {allNames.length > 0 && (
                <div className="table-scroll">
                  <table className="runs-table compare-table" data-testid="compare-metrics">
                    <caption>Last metric values</caption>
                    <thead>
                      <tr>
                        <th scope="col">Metric</th>
                        {runs.map((run) => (
                          <RunHead key={run.id} run={run} tasks={tasks} />
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {allNames.map((name) => (
                        <tr key={name} data-testid={`compare-metric-row-${name}`}>
                          <th scope="row">{name}</th>
                          {runIds.map((id, i) => (
                            <td key={id} className="numeric">
                              {formatValue(lastValue(metrics.data[i], name))}
                            </td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </div>
            {allNames.length === 0 && !metrics.pending && (
              <p className="muted">These runs reported no metrics.</p>
            )}
            <div className="chart-grid">
              {charts.map((chart) => (
                <LineChart
                  key={chart.name}
                  title={chart.name}
                  series={chart.series}
                  xLabel="step"
                  testId={`compare-chart-${chart.name}`}
                />
              ))}
            </div>
            {names.partial.length > 0 && (
              <p className="muted small" data-testid="compare-partial">
                Not reported by every run, so not charted: {names.partial.join(", ")}.
              </p>
            )}
          </>
        )
      )}
    </section>
  );
}
