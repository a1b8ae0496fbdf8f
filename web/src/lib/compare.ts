// History's comparison of 2–4 VTM runs: their fields side by side, and which metrics to chart.
import type { MetricsResponse, RunRecord } from "../api/types";
import { isGpuSeries } from "./gpuMetrics";

/** Series a trainer reports that are progress counters, not metrics. */
const COUNTERS = new Set(["epoch", "total_epochs"]);

export interface FieldRow {
  name: string;
  /** By run id; a run started without the field has no entry. */
  values: Record<string, unknown>;
  /** True when any two runs disagree (a run lacking the field counts as different). */
  differs: boolean;
}

const MISSING = "\u0000missing";

/** Every field any of the runs was started with, in the order the runs list them. */
export function compareFields(runs: readonly RunRecord[]): FieldRow[] {
  const names = [...new Set(runs.flatMap((run) => Object.keys(run.fields)))];
  return names.map((name) => {
    const values: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const run of runs) {
      const has = Object.hasOwn(run.fields, name);
      if (has) values[run.id] = run.fields[name];
      seen.add(has ? JSON.stringify(run.fields[name]) : MISSING);
    }
    return { name, values, differs: seen.size > 1 };
  });
}

export interface ComparedMetrics {
  /** Reported by every run: one chart each, the primary metric first, then by name (GPU
   * telemetry last). */
  shared: string[];
  /** Reported by some of the runs only. */
  partial: string[];
}

export function compareMetrics(
  all: readonly (MetricsResponse | undefined)[],
  primary: string | null,
): ComparedMetrics {
  const loaded = all.filter((m): m is MetricsResponse => m !== undefined);
  const names = [...new Set(loaded.flatMap((m) => Object.keys(m.series)))].filter((n) => !COUNTERS.has(n));
  // The primary metric first, the GPU telemetry VTM samples last, the rest by name between.
  names.sort(
    (a, b) =>
      Number(b === primary) - Number(a === primary) ||
      Number(isGpuSeries(a)) - Number(isGpuSeries(b)) ||
      a.localeCompare(b),
  );
  const inEvery = (name: string) => loaded.every((m) => (m.series[name]?.length ?? 0) > 0);
  return { shared: names.filter(inEvery), partial: names.filter((n) => !inEvery(n)) };
}

/** A series' last reported value (null when it has none). */
export function lastValue(metrics: MetricsResponse | undefined, name: string): number | null {
  return metrics?.series[name]?.at(-1)?.value ?? null;
}
