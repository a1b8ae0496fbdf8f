import { describe, expect, it } from "vitest";
import { anyDagRunActive } from "../api/pipelineQueries";
import type { PipelineStep, PipelinesStatus } from "../api/types";
import {
  airflowDagRunUrl,
  airflowDagUrl,
  airflowTaskUrl,
  describeSchedule,
  formatSeconds,
  orderedSteps,
  stateTone,
  stepAction,
  stepFields,
  stepPlace,
} from "./pipelines";

function step(overrides: Partial<PipelineStep>): PipelineStep {
  return { kind: "task", task: "digits-cnn", fields: {}, dependsOn: [], mode: "api", ...overrides };
}

describe("Airflow links", () => {
  it("builds Airflow 3 UI addresses, encoding run ids", () => {
    const base = "http://127.0.0.1:8080/";
    const runId = "manual__2026-11-26T02:00:00+00:00";
    expect(airflowDagUrl(base, "digits-nightly")).toBe("http://127.0.0.1:8080/dags/digits-nightly");
    expect(airflowDagRunUrl(base, "digits-nightly", runId)).toBe(
      "http://127.0.0.1:8080/dags/digits-nightly/runs/manual__2026-11-26T02%3A00%3A00%2B00%3A00",
    );
    expect(
      airflowTaskUrl(base, { dagId: "d", runId: "r", taskId: "train", tryNumber: 2, mapIndex: -1 }),
    ).toBe("http://127.0.0.1:8080/dags/d/runs/r/tasks/train?try_number=2");
    expect(airflowTaskUrl(base, { dagId: "d", runId: "r", taskId: "train", tryNumber: 0, mapIndex: 3 })).toBe(
      "http://127.0.0.1:8080/dags/d/runs/r/tasks/train/mapped/3",
    );
  });
});

describe("pipeline text", () => {
  it("writes durations as the catalog does, and schedules", () => {
    expect(formatSeconds(90)).toBe("90s");
    expect(formatSeconds(300)).toBe("5m");
    expect(formatSeconds(7200)).toBe("2h");
    expect(formatSeconds(86400)).toBe("1d");
    expect(formatSeconds(null)).toBe("—");
  });

  it("says a schedule in words, in UTC as Airflow reads a cron", () => {
    expect(describeSchedule("0 2 * * *")).toBe("At 02:00, UTC");
    expect(describeSchedule("30 3 * * *")).toBe("At 03:30, UTC");
    expect(describeSchedule("0 6 * * 1")).toBe("At 06:00, only on Monday, UTC");
    expect(describeSchedule("*/15 * * * *")).toBe("Every 15 minutes, UTC");
    expect(describeSchedule("@daily")).toBe("At 00:00, UTC");
    expect(describeSchedule("@hourly")).toBe("Every hour, UTC");
    expect(describeSchedule("@weekly")).toBe("At 00:00, only on Sunday, UTC");
    expect(describeSchedule("@once")).toBe("Once, when the DAG is first unpaused");
    expect(describeSchedule(null)).toMatch(/^On demand/);
    // Something cronstrue cannot read is shown as written rather than dropped.
    expect(describeSchedule("not a cron")).toBe("not a cron");
  });

  it("says what each kind of step does", () => {
    expect(stepAction(step({ task: "digits-prepare" }))).toBe("run digits-prepare");
    expect(
      stepAction(
        step({
          kind: "publish",
          task: null,
          publish: {
            task: "digits-cnn",
            metric: "val_accuracy",
            goal: "max",
            since: "1d",
            alias: "champion",
            againstChampion: true,
          },
        }),
      ),
    ).toBe(
      "publish the best digits-cnn model (by max val_accuracy, better than the champion, since 1d, alias champion)",
    );
    expect(
      stepAction(
        step({
          kind: "publish",
          task: null,
          publish: {
            task: "digits-cnn",
            run: "train",
            evaluation: "evaluate",
            minMetric: 0.9,
            againstChampion: true,
          },
        }),
      ),
    ).toBe(
      "publish train's digits-cnn model (judged by evaluate's primary metric, at least 0.9, better than the champion)",
    );
    expect(
      stepAction(step({ kind: "report", task: null, report: { since: "7d", task: null, format: "html" } })),
    ).toBe("quality report of the last 7d (html)");
    expect(stepFields(step({ fields: { snapshot: "{{ ds }}", epochs: 3 } }))).toBe(
      "snapshot={{ ds }} epochs=3",
    );
  });

  it("says where a step's work happens: VTM, or the Airflow worker in exec mode, and its queue", () => {
    expect(stepPlace(step({}))).toBe("VTM");
    expect(stepPlace(step({ mode: "api", queue: "gpu-a100" }))).toBe("VTM, queue gpu-a100");
    expect(stepPlace(step({ mode: "exec", queue: "gpu-a100" }))).toBe(
      "the Airflow worker (vtm exec), queue gpu-a100",
    );
    expect(stepPlace(step({ mode: "exec" }))).toBe("the Airflow worker (vtm exec)");
  });

  it("orders steps after what they depend on, otherwise as declared", () => {
    const steps = {
      publish: step({ dependsOn: ["evaluate"] }),
      prepare: step({}),
      evaluate: step({ dependsOn: ["train"] }),
      train: step({ dependsOn: ["prepare"] }),
      report: step({}),
    };
    expect(orderedSteps({ steps }).map(([id]) => id)).toEqual([
      "prepare",
      "train",
      "evaluate",
      "publish",
      "report",
    ]);
  });

  it("groups Airflow's states by what they mean", () => {
    expect(stateTone("success")).toBe("ok");
    expect(stateTone("upstream_failed")).toBe("bad");
    expect(stateTone("deferred")).toBe("active");
    expect(stateTone("up_for_retry")).toBe("wait");
    expect(stateTone(null)).toBe("none");
    expect(stateTone("skipped")).toBe("none");
  });

  it("polls faster only while a DAG run is queued or running", () => {
    const status = (state: string): PipelinesStatus => ({
      airflowUrl: "http://a",
      configured: true,
      pipelines: [
        {
          pipelineId: "p",
          inAirflow: true,
          dagRuns: [
            {
              runId: "r",
              logicalDate: null,
              state,
              runType: null,
              startDate: null,
              endDate: null,
              tasks: [],
            },
          ],
        },
      ],
    });
    expect(anyDagRunActive(status("running"))).toBe(true);
    expect(anyDagRunActive(status("queued"))).toBe(true);
    expect(anyDagRunActive(status("success"))).toBe(false);
    expect(anyDagRunActive(undefined)).toBe(false);
  });
});
