import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { alignSeries, type ChartSeries } from "../lib/chartData";
import { usePrefersDark } from "../lib/usePrefersDark";

interface Props {
  title: string;
  series: readonly ChartSeries[];
  xLabel?: string;
  height?: number;
  testId?: string;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000];

function options(props: Props, width: number): uPlot.Options {
  const axis = cssVar("--text-muted", "#666");
  const grid = cssVar("--border", "#ddd");
  const axisStyle = { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
  return {
    width,
    height: props.height ?? 220,
    scales: { x: { time: false } },
    // Steps are whole epochs: tick only at whole numbers, never 1.2, 1.4, …
    axes: [{ ...axisStyle, label: props.xLabel ?? "step", incrs: STEP_INCREMENTS }, axisStyle],
    series: [
      { label: props.xLabel ?? "step" },
      ...props.series.map((s, i) => ({
        label: s.label,
        stroke: cssVar(`--chart-${(i % 4) + 1}`, "#3b82f6"),
        width: 2,
        spanGaps: true,
        points: { show: false },
      })),
    ],
  };
}

/** A uPlot line chart: recreated when its series or the theme change, fed new data in place. */
export function LineChart(props: Props) {
  const { series, testId, title } = props;
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = useMemo(() => alignSeries(series), [series]);
  const latest = useRef({ props, data });
  latest.current = { props, data };
  const dark = usePrefersDark();
  const shape = series.map((s) => s.label).join("\n");

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const { props: current, data: initial } = latest.current;
    const u = new uPlot(options(current, el.clientWidth || 600), initial, el);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      u.setSize({ width: el.clientWidth || 600, height: current.height ?? 220 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, dark, props.height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={container} className="chart-canvas" role="img" aria-label={`${title} chart`} />
    </figure>
  );
}
