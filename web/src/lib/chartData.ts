import type uPlot from "uplot";

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  label: string;
  points: readonly ChartPoint[];
}

/**
 * uPlot wants one shared, sorted x array with a y array per series; runs report different
 * steps, so each series gets null where it has no point (drawn as a gap bridged by spanGaps).
 */
export function alignSeries(series: readonly ChartSeries[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const column: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const p of s.points) column[index.get(p.x) ?? 0] = p.y;
    return column;
  });
  return [xs, ...ys];
}
