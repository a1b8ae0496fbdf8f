// Pure helpers of the MLflow page: folder crumbs, table columns, chart series, compare state.
import type { MetricHistory, MlflowRun, Task } from "../api/types";
import type { ChartSeries } from "./chartData";

/** 1536 → "1.5 KB"; null (a folder, or a store that did not say) → "—". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export interface Crumb {
  name: string;
  path: string;
}

/** "a/b/c" → root, a, a/b, a/b/c: each a folder one can go back to. */
export function pathCrumbs(path: string, rootName = "artifacts"): Crumb[] {
  const parts = path.split("/").filter(Boolean);
  return [
    { name: rootName, path: "" },
    ...parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join("/") })),
  ];
}

/** The folder above ``path`` ("" for a top-level one). */
export function parentPath(path: string): string {
  const parts = path.split("/").filter(Boolean);
  return parts.slice(0, -1).join("/");
}

/** Every param (or metric) name any of ``runs`` logged, sorted: the table's columns. */
export function columnKeys(runs: readonly MlflowRun[], what: "params" | "metrics"): string[] {
  return [...new Set(runs.flatMap((run) => Object.keys(run[what])))].sort((a, b) => a.localeCompare(b));
}

/**
 * The metric an experiment's table shows beside each run's status (and keeps on a phone's
 * screen): the primary metric of the catalog task that logs to this experiment, when the runs
 * logged it, else the first metric by name; null when the runs logged none.
 */
export function primaryMetricKey(
  experimentName: string | undefined,
  tasks: readonly Task[],
  metricKeys: readonly string[],
): string | null {
  const task = tasks.find(
    (t) =>
      t.mlflow?.experiment === experimentName &&
      t.primaryMetric !== null &&
      metricKeys.includes(t.primaryMetric.name),
  );
  return task?.primaryMetric?.name ?? metricKeys[0] ?? null;
}

/** Params whose value is not the same in every run (a run without it counts as different). */
export function differingParams(runs: readonly MlflowRun[]): Set<string> {
  const out = new Set<string>();
  for (const key of columnKeys(runs, "params")) {
    const values = new Set(runs.map((run) => run.params[key] ?? null));
    if (values.size > 1) out.add(key);
  }
  return out;
}

/** A metric's history as chart points; null values (NaN, ±inf on the server) are left out. */
export function historySeries(label: string, history: MetricHistory | undefined): ChartSeries {
  return {
    label,
    points: (history?.points ?? []).flatMap((p) => (p.value === null ? [] : [{ x: p.step, y: p.value }])),
  };
}

export function isSystemTag(key: string): boolean {
  return key.startsWith("mlflow.");
}

/** Milliseconds from start to end (or to ``now`` while running); null when not started. */
export function mlflowRunDuration(run: MlflowRun, now: number): number | null {
  if (!run.startTime) return null;
  const end = run.endTime ? Date.parse(run.endTime) : run.status === "RUNNING" ? now : null;
  return end === null ? null : Math.max(0, end - Date.parse(run.startTime));
}

/** The ``?compare=a,b`` of the experiment page's address. */
export function readCompare(params: URLSearchParams): string[] {
  return (params.get("compare") ?? "").split(",").filter(Boolean);
}

export function writeCompare(params: URLSearchParams, ids: readonly string[]): URLSearchParams {
  const out = new URLSearchParams(params);
  if (ids.length) out.set("compare", ids.join(","));
  else out.delete("compare");
  return out;
}

/** MLflow's run status in the badge colours the rest of the UI uses for VTM statuses. */
export function statusClass(status: string): string {
  const map: Record<string, string> = {
    RUNNING: "running",
    SCHEDULED: "queued",
    FINISHED: "completed",
    FAILED: "failed",
    KILLED: "stopped",
  };
  return `badge badge-${map[status] ?? "queued"}`;
}
