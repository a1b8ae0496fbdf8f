import { screen, waitFor, within } from "@testing-library/react";
import uPlot from "uplot";
import { describe, expect, it } from "vitest";
import type { MetricsResponse } from "../api/types";
import { json, makeRun, makeTask, mockFetch, renderWithProviders } from "../test/fixtures";
import { MetricsPanel } from "./MetricsPanel";
import { RunSummary } from "./RunSummary";

type Plot = { opts: { series: { label?: string }[] }; data: (number | null)[][]; target: HTMLElement };
const plots = () => (uPlot as unknown as { instances: Plot[] }).instances;
const plotIn = (figure: HTMLElement) =>
  plots()
    .filter((p) => figure.contains(p.target))
    .at(-1)!;

describe("a run's summary", () => {
  it("shows its priority and GPU use: GPU-hours, energy and cost", () => {
    const run = makeRun({ status: "completed", priority: 4, gpuHours: 0.5, energyWh: 131.25, cost: 1.5 });
    renderWithProviders(<RunSummary run={run} task={makeTask()} />);
    expect(screen.getByTestId("run-priority")).toHaveTextContent("4");
    expect(screen.getByTestId("run-gpu-hours")).toHaveTextContent("0.5");
    expect(screen.getByTestId("run-energy")).toHaveTextContent("131.3 Wh");
    expect(screen.getByTestId("run-cost")).toHaveTextContent("1.50");
    expect(screen.queryByTestId("run-queue")).toBeNull();
  });

  it("leaves out the cost without a rate and says when energy was not counted", () => {
    renderWithProviders(<RunSummary run={makeRun()} task={makeTask()} />);
    expect(screen.getByTestId("run-energy")).toHaveTextContent("—");
    expect(screen.getByTestId("run-gpu-hours")).toHaveTextContent("0");
    expect(screen.queryByTestId("run-cost")).toBeNull();
  });

  it("says where a queued run stands, why, and when it should start", () => {
    const run = makeRun({
      status: "queued",
      startedAt: null,
      priority: 2,
      queue: {
        position: 3,
        reason: "needs 2 GPUs, 1 free; behind 2 runs queued earlier",
        estimatedStartAt: null,
      },
    });
    renderWithProviders(<RunSummary run={run} task={makeTask()} />);
    const queue = screen.getByTestId("run-queue");
    expect(within(queue).getByTestId("run-queue-position")).toHaveTextContent("#3 in the queue");
    expect(within(queue).getByTestId("run-queue-reason")).toHaveTextContent(
      "needs 2 GPUs, 1 free; behind 2 runs queued earlier",
    );
    expect(within(queue).getByTestId("run-queue-estimate")).toHaveTextContent("unknown");
    expect(within(queue).getByTestId("priority-input")).toHaveValue(2);
  });
});

describe("a run's metric charts", () => {
  it("charts the trainer's metrics first and its GPUs' telemetry apart, a line per GPU", async () => {
    const points = (...values: number[]) =>
      values.map((value, step) => ({ step, value, time: "2026-11-26T12:00:00Z" }));
    const metrics: MetricsResponse = {
      runId: "r",
      series: {
        epoch: points(1, 2),
        "gpu/1/utilization": points(20, 30),
        "gpu/0/utilization": points(50, 60),
        "gpu/0/memory_used_mb": points(1000, 1200),
        "gpu/0/power_w": points(100, 110),
        val_accuracy: points(0.5, 0.6),
        loss: points(1, 0.5),
      },
    };
    mockFetch(() => json(metrics));
    renderWithProviders(<MetricsPanel runId="r" primary="val_accuracy" />);
    const gpu = await screen.findByTestId("gpu-metrics");
    const titles = (scope: HTMLElement) =>
      within(scope)
        .getAllByRole("figure")
        .map((f) => f.querySelector("figcaption")?.textContent);
    expect(titles(screen.getByRole("region", { name: "Metrics" })).slice(0, 2)).toEqual([
      "val_accuracy",
      "loss",
    ]);
    expect(titles(gpu)).toEqual(["GPU utilisation (%)", "GPU memory used (MiB)", "GPU power (W)"]);
    const utilisation = screen.getByTestId("gpu-chart-utilization");
    await waitFor(() =>
      expect(plotIn(utilisation).data).toEqual([
        [0, 1],
        [50, 60],
        [20, 30],
      ]),
    );
    expect(plotIn(utilisation).opts.series.map((s) => s.label)).toEqual(["seconds", "GPU 0", "GPU 1"]);
    expect(screen.queryByTestId("metric-chart-gpu/0/utilization")).toBeNull();
  });
});
