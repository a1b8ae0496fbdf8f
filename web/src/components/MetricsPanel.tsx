import { useMemo } from "react";
import { useRunMetrics } from "../api/queries";
import type { MetricsResponse } from "../api/types";
import type { ChartSeries } from "../lib/chartData";
import { ErrorNotice } from "./ErrorNotice";
import { LineChart } from "./LineChart";

function chartsOf(metrics: MetricsResponse | undefined, primary: string | null) {
  const names = Object.keys(metrics?.series ?? {}).filter((n) => n !== "epoch" && n !== "total_epochs");
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

/** One live chart per metric the trainer reports; refetched as run.updated events arrive. */
export function MetricsPanel({ runId, primary }: { runId: string; primary: string | null }) {
  const metrics = useRunMetrics(runId);
  const charts = useMemo(() => chartsOf(metrics.data, primary), [metrics.data, primary]);
  return (
    <section aria-labelledby="metrics-heading">
      <h2 id="metrics-heading">Metrics</h2>
      {metrics.isError && !metrics.data && (
        <ErrorNotice error={metrics.error} what="Metrics could not be loaded." />
      )}
      {metrics.data && charts.length === 0 && <p className="muted">No metrics reported yet.</p>}
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
    </section>
  );
}
