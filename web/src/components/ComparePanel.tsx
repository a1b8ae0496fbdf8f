import { useMemo, useState } from "react";
import { useRunsMetrics } from "../api/queries";
import type { MetricsResponse, RunRecord, Task } from "../api/types";
import type { ChartSeries } from "../lib/chartData";
import { LineChart } from "./LineChart";

interface Props {
  runs: readonly RunRecord[];
  tasks: ReadonlyMap<string, Task>;
  onClear: () => void;
}

function metricNames(all: readonly (MetricsResponse | undefined)[]): string[] {
  const names = new Set(all.flatMap((m) => Object.keys(m?.series ?? {})));
  return [...names].filter((n) => n !== "epoch" && n !== "total_epochs").sort();
}

/** 2–4 runs' curves of one metric on one chart. */
export function ComparePanel({ runs, tasks, onClear }: Props) {
  const metrics = useRunsMetrics(runs.map((r) => r.id));
  const names = useMemo(() => metricNames(metrics.data), [metrics.data]);
  const primary = runs
    .map((r) => tasks.get(r.taskId)?.primaryMetric?.name)
    .find((n) => n && names.includes(n));
  const [picked, setPicked] = useState("");
  const metric = names.includes(picked) ? picked : (primary ?? names[0] ?? "");
  const series: ChartSeries[] = useMemo(
    () =>
      runs.map((run, i) => ({
        label: `${run.id} · ${tasks.get(run.taskId)?.title ?? run.taskId}`,
        points: (metrics.data[i]?.series[metric] ?? []).map((p) => ({ x: p.step, y: p.value })),
      })),
    [runs, tasks, metric, metrics.data],
  );

  return (
    <section className="card compare" aria-labelledby="compare-heading" data-testid="compare-panel">
      <div className="page-head">
        <h2 id="compare-heading">Compare {runs.length} runs</h2>
        <button type="button" className="button small" onClick={onClear} data-testid="compare-clear">
          Clear
        </button>
      </div>
      {runs.length < 2 ? (
        <p className="muted">Pick one to three more runs to compare.</p>
      ) : (
        <>
          <label>
            Metric{" "}
            <select value={metric} onChange={(e) => setPicked(e.target.value)} data-testid="compare-metric">
              {names.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </label>
          {names.length === 0 && !metrics.pending && <p className="muted">These runs reported no metrics.</p>}
          <LineChart
            title={metric || "metric"}
            series={series}
            xLabel="step"
            height={300}
            testId="compare-chart"
          />
        </>
      )}
    </section>
  );
}
