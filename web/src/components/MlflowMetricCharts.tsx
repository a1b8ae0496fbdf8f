import { useMemo } from "react";
import { useMetricHistories } from "../api/mlflowQueries";
import type { MlflowRun } from "../api/types";
import { historySeries } from "../lib/mlflowView";
import { ErrorNotice } from "./ErrorNotice";
import { LineChart } from "./LineChart";

/** One chart per metric the run logged, each its whole history by step (polled while the
 * run is RUNNING). */
export function MlflowMetricCharts({ run }: { run: MlflowRun }) {
  const names = useMemo(() => Object.keys(run.metrics).sort((a, b) => a.localeCompare(b)), [run.metrics]);
  const pairs = useMemo(() => names.map((key) => ({ runId: run.id, key })), [names, run.id]);
  const histories = useMetricHistories(pairs, run.status === "RUNNING");
  const charts = useMemo(
    () => names.map((name, i) => ({ name, series: [historySeries(name, histories.data[i])] })),
    [names, histories.data],
  );
  if (names.length === 0) return <p className="muted">This run logged no metrics.</p>;
  return (
    <>
      {histories.error && (
        <ErrorNotice error={histories.error} what="A metric history could not be loaded." />
      )}
      <div className="chart-grid">
        {charts.map((chart) => (
          <LineChart
            key={chart.name}
            title={chart.name}
            series={chart.series}
            xLabel="step"
            testId={`mlflow-metric-chart-${chart.name}`}
          />
        ))}
      </div>
    </>
  );
}
