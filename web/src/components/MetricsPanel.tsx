import { useMemo } from "react";
import { useRunMetrics } from "../api/queries";
import type { MetricsResponse } from "../api/types";
import type { ChartSeries } from "../lib/chartData";
import { gpuCharts, isGpuSeries } from "../lib/gpuMetrics";
import { ErrorNotice } from "./ErrorNotice";
import { LineChart } from "./LineChart";

function chartsOf(metrics: MetricsResponse | undefined, primary: string | null) {
  const names = Object.keys(metrics?.series ?? {}).filter(
    (n) => n !== "epoch" && n !== "total_epochs" && !isGpuSeries(n),
  );
  // The primary metric first, then the rest alphabetically.
  names.sort((a, b) => Number(b === primary) - Number(a === primary) || a.localeCompare(b));
  return names.map((name) => ({
    name,
    series: [
      {
        label: name,
        points: (metrics?.series[name] ?? []).map((p) => ({ x: p.step, y: p.value })),
      },
    ] satisfies ChartSeries[],
  }));
}

/** One live chart per metric the trainer reports, then its GPUs' telemetry as VTM sampled it;
 * refetched as run.updated events arrive. */
export function MetricsPanel({ runId, primary }: { runId: string; primary: string | null }) {
  const metrics = useRunMetrics(runId);
  const charts = useMemo(() => chartsOf(metrics.data, primary), [metrics.data, primary]);
  const gpus = useMemo(() => gpuCharts(metrics.data), [metrics.data]);
  return (
    <section aria-labelledby="metrics-heading">
      <h2 id="metrics-heading">Metrics</h2>
      {metrics.isError && !metrics.data && (
        <ErrorNotice error={metrics.error} what="Metrics could not be loaded." />
      )}
      {metrics.data && charts.length === 0 && (
        <p className="muted">
          {gpus.length ? "The trainer has reported no metrics yet." : "No metrics reported yet."}
        </p>
      )}
      <div className="chart-grid">
        {charts.map((chart) => (
          <LineChart
            key={chart.name}
            title={chart.name}
            series={chart.series}
            xLabel="step"
            testId={`metric-chart-${chart.name}`}
          />
        ))}
      </div>
      {gpus.length > 0 && (
        <section aria-labelledby="gpu-metrics-heading" data-testid="gpu-metrics">
          <h3 id="gpu-metrics-heading">GPU</h3>
          <p className="muted small">
            Sampled by VTM every few seconds, against seconds since the run started.
          </p>
          <div className="chart-grid">
            {gpus.map((chart) => (
              <LineChart
                key={chart.kind}
                title={chart.title}
                series={chart.series}
                xLabel="seconds"
                testId={`gpu-chart-${chart.kind}`}
              />
            ))}
          </div>
        </section>
      )}
    </section>
  );
}
