import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { tickLabels } from "../lib/axis";
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
const AXIS_FONT = "12px system-ui, sans-serif";
const TICK_SIZE = 10;
const TICK_GAP = 5;

let measurer: CanvasRenderingContext2D | null | undefined;

/** Pixels the widest label takes, so the value axis is as wide as its labels (uPlot's fixed
 * 50 px cuts "0.0015"). */
function labelWidth(labels: readonly string[]): number {
  measurer ??= document.createElement("canvas").getContext("2d");
  const longest = labels.reduce((a, b) => (b.length > a.length ? b : a), "");
  if (!measurer) return longest.length * 7;
  measurer.font = AXIS_FONT;
  return measurer.measureText(longest).width;
}

function options(props: Props, width: number, onTicks: (labels: string[]) => void): uPlot.Options {
  const axis = cssVar("--text-muted", "#666");
  const grid = cssVar("--border", "#ddd");
  const axisStyle = {
    stroke: axis,
    font: AXIS_FONT,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, size: TICK_SIZE },
    gap: TICK_GAP,
  };
  const valueAxis: uPlot.Axis = {
    ...axisStyle,
    values: (_u, splits, _axis, _space, increment) => {
      const labels = tickLabels(splits, increment);
      onTicks(labels);
      return labels;
    },
    size: (_u, labels) => Math.max(40, Math.ceil(labelWidth(labels ?? []) + TICK_SIZE + TICK_GAP + 6)),
  };
  return {
    width,
    height: props.height ?? 220,
    scales: { x: { time: false } },
    // Steps are whole epochs: tick only at whole numbers, never 1.2, 1.4, …
    axes: [{ ...axisStyle, label: props.xLabel ?? "step", incrs: STEP_INCREMENTS }, valueAxis],
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
    // The labels are drawn on the canvas; the attribute says what they read (tests look).
    const onTicks = (labels: string[]) => {
      el.dataset.yTicks = labels.join("|");
    };
    const u = new uPlot(options(current, el.clientWidth || 600, onTicks), initial, el);
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
