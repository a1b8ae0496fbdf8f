// The GPU telemetry VTM samples into a run's metrics (`gpu/<index>/<kind>`, at the seconds since
// the run started): charted apart from the trainer's own metrics, one chart per kind with a
// line per GPU.
import type { MetricsResponse } from "../api/types";
import type { ChartSeries } from "./chartData";

const GPU_SERIES = /^gpu\/(\d+)\/(.+)$/;

/** The kinds VTM samples, in the order their charts come, with their titles. */
const KINDS: Record<string, string> = {
  utilization: "GPU utilisation (%)",
  memory_used_mb: "GPU memory used (MiB)",
  power_w: "GPU power (W)",
};

export function gpuSeriesOf(name: string): { index: number; kind: string } | null {
  const match = GPU_SERIES.exec(name);
  return match ? { index: Number(match[1]), kind: match[2] ?? "" } : null;
}

export function isGpuSeries(name: string): boolean {
  return GPU_SERIES.test(name);
}

export interface GpuChart {
  kind: string;
  title: string;
  series: ChartSeries[];
}

export function gpuCharts(metrics: MetricsResponse | undefined): GpuChart[] {
  const byKind = new Map<string, { index: number; name: string }[]>();
  for (const name of Object.keys(metrics?.series ?? {})) {
    const parsed = gpuSeriesOf(name);
    if (!parsed) continue;
    byKind.set(parsed.kind, [...(byKind.get(parsed.kind) ?? []), { index: parsed.index, name }]);
  }
  const known = Object.keys(KINDS);
  const rank = (kind: string) => (known.includes(kind) ? known.indexOf(kind) : known.length);
  const kinds = [...byKind.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return kinds.map((kind) => ({
    kind,
    title: KINDS[kind] ?? `GPU ${kind.replace(/_/g, " ")}`,
    series: (byKind.get(kind) ?? [])
      .sort((a, b) => a.index - b.index)
      .map(({ index, name }) => ({
        label: `GPU ${index}`,
        points: (metrics?.series[name] ?? []).map((p) => ({ x: p.step, y: p.value })),
      })),
  }));
}
