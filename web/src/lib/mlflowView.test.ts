import { describe, expect, it } from "vitest";
import type { MlflowRun } from "../api/types";
import { makeTask } from "../test/fixtures";
import { tensorboardRunUrl } from "./mlflow";
import {
  columnKeys,
  differingParams,
  formatBytes,
  historySeries,
  mlflowRunDuration,
  parentPath,
  pathCrumbs,
  primaryMetricKey,
  readCompare,
  writeCompare,
} from "./mlflowView";

function run(overrides: Partial<MlflowRun>): MlflowRun {
  return {
    id: "r",
    name: null,
    experimentId: "1",
    status: "FINISHED",
    startTime: null,
    endTime: null,
    lifecycleStage: "active",
    artifactUri: null,
    userId: null,
    params: {},
    metrics: {},
    tags: {},
    vtmRunId: null,
    ...overrides,
  };
}

describe("MLflow view helpers", () => {
  it("formats sizes", () => {
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MB");
  });

  it("splits a folder path into crumbs and finds its parent", () => {
    expect(pathCrumbs("")).toEqual([{ name: "artifacts", path: "" }]);
    expect(pathCrumbs("a/b/c")).toEqual([
      { name: "artifacts", path: "" },
      { name: "a", path: "a" },
      { name: "b", path: "a/b" },
      { name: "c", path: "a/b/c" },
    ]);
    expect(parentPath("a/b/c")).toBe("a/b");
    expect(parentPath("a")).toBe("");
  });

  it("takes the union of params and metrics as columns, and finds the params that differ", () => {
    const runs = [
      run({ params: { lr: "0.1", epochs: "3" }, metrics: { loss: 1 } }),
      run({ params: { lr: "0.01", epochs: "3", seed: "7" }, metrics: { "val/acc": 0.5 } }),
    ];
    expect(columnKeys(runs, "params")).toEqual(["epochs", "lr", "seed"]);
    expect(columnKeys(runs, "metrics")).toEqual(["loss", "val/acc"]);
    // A param only one run logged differs too.
    expect([...differingParams(runs)].sort()).toEqual(["lr", "seed"]);
  });

  it("charts a history by step, leaving out values JSON could not carry", () => {
    const series = historySeries("loss", {
      runId: "r",
      key: "loss",
      points: [
        { step: 0, timestamp: "2026-11-26T12:00:00Z", value: 1 },
        { step: 1, timestamp: "2026-11-26T12:00:01Z", value: null },
        { step: 2, timestamp: "2026-11-26T12:00:02Z", value: 0.5 },
      ],
    });
    expect(series).toEqual({
      label: "loss",
      points: [
        { x: 0, y: 1 },
        { x: 2, y: 0.5 },
      ],
    });
    expect(historySeries("x", undefined).points).toEqual([]);
  });

  it("measures a run until its end, or until now while it runs", () => {
    const start = "2026-11-26T12:00:00Z";
    const now = Date.parse("2026-11-26T12:01:00Z");
    expect(mlflowRunDuration(run({ startTime: start, endTime: "2026-11-26T12:00:30Z" }), now)).toBe(30_000);
    expect(mlflowRunDuration(run({ startTime: start, status: "RUNNING" }), now)).toBe(60_000);
    expect(mlflowRunDuration(run({ startTime: start, status: "FAILED" }), now)).toBeNull();
    expect(mlflowRunDuration(run({}), now)).toBeNull();
  });

  it("leads an experiment's table with the primary metric of the task that logs to it", () => {
    const task = makeTask({
      primaryMetric: { name: "val_accuracy", goal: "max" },
      mlflow: { experiment: "digits", registeredModel: "digits" },
    });
    const keys = ["loss", "val_accuracy"];
    expect(primaryMetricKey("digits", [task], keys)).toBe("val_accuracy");
    // No task logs there, or the runs did not log its metric: the first metric by name.
    expect(primaryMetricKey("other", [task], keys)).toBe("loss");
    expect(primaryMetricKey("digits", [task], ["loss"])).toBe("loss");
    expect(primaryMetricKey("digits", [makeTask({ mlflow: null })], keys)).toBe("loss");
    expect(primaryMetricKey("digits", [task], [])).toBeNull();
  });

  it("keeps the compared runs in the address", () => {
    const params = writeCompare(new URLSearchParams("x=1"), ["a", "b"]);
    expect(params.toString()).toBe("x=1&compare=a%2Cb");
    expect(readCompare(params)).toEqual(["a", "b"]);
    expect(writeCompare(params, []).toString()).toBe("x=1");
  });

  it("links TensorBoard filtered to the run's folder", () => {
    expect(tensorboardRunUrl("http://127.0.0.1:6006/", "20261126-120000-aaaaaa")).toBe(
      "http://127.0.0.1:6006/?runFilter=20261126-120000-aaaaaa#timeseries",
    );
  });
});
