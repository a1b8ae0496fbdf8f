import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ACTIVE_MS, IDLE_MS } from "../api/pipelineQueries";
import type { Pipeline, PipelinesStatus, RunRecord } from "../api/types";
import { RunOrigin } from "../components/RunOrigin";
import { formatDateTime } from "../lib/format";
import { json, makeRun, mockFetch, renderWithProviders } from "../test/fixtures";
import { PipelinesPage } from "./PipelinesPage";

const AIRFLOW = "http://127.0.0.1:8080";
const RUN_ID = "scheduled__2026-11-25T02:00:00+00:00";

const nightly: Pipeline = {
  description: "Nightly retrain",
  schedule: "0 2 * * *",
  startDate: "2026-01-01",
  nextRunAt: "2026-11-27T02:00:00Z",
  catchup: false,
  retries: 1,
  retryDelay: 300,
  steps: {
    // Declared out of order: the page lists them after what they depend on.
    publish: {
      kind: "publish",
      task: null,
      publish: {
        task: "digits-cnn",
        metric: null,
        goal: null,
        since: null,
        alias: null,
        againstChampion: true,
      },
      report: null,
      fields: {},
      dependsOn: ["train"],
      retries: null,
      retryDelay: null,
      timeout: null,
      mode: "api",
    },
    prepare: {
      kind: "task",
      task: "digits-prepare",
      publish: null,
      report: null,
      fields: { snapshot: "{{ ds }}" },
      dependsOn: [],
      retries: null,
      retryDelay: null,
      timeout: null,
      mode: "api",
    },
    train: {
      kind: "task",
      task: "digits-cnn",
      publish: null,
      report: null,
      fields: {},
      dependsOn: ["prepare"],
      retries: 2,
      retryDelay: null,
      timeout: 3600,
      queue: "gpu-a100",
      mode: "exec",
    },
  },
};
const weekly: Pipeline = {
  ...nightly,
  description: null,
  schedule: null,
  nextRunAt: null,
  steps: { report: { ...nightly.steps.publish!, kind: "report", publish: null, dependsOn: [] } },
};

function statusOf(overrides: Partial<PipelinesStatus> = {}, dagState = "success"): PipelinesStatus {
  return {
    airflowUrl: AIRFLOW,
    configured: true,
    error: null,
    pipelines: [
      {
        pipelineId: "digits-nightly",
        inAirflow: true,
        dagRuns: [
          {
            runId: RUN_ID,
            logicalDate: "2026-11-25T02:00:00Z",
            state: dagState,
            runType: "scheduled",
            startDate: "2026-11-26T02:00:01Z",
            endDate: dagState === "running" ? null : "2026-11-26T02:03:00Z",
            tasks: [
              // Airflow's order, not the steps': the page puts them in step order.
              {
                taskId: "train",
                state: dagState === "running" ? "running" : "success",
                tryNumber: 2,
                startDate: null,
                endDate: null,
                vtmRunId: "20261126-020100-bbbbbb",
                queue: "gpu-a100",
                hostname: "gpu-worker-3",
              },
              {
                taskId: "publish",
                state: dagState === "running" ? "queued" : "skipped",
                tryNumber: dagState === "running" ? 0 : 1,
                startDate: null,
                endDate: null,
                queue: "default",
                vtmRunId: null,
                note:
                  dagState === "running"
                    ? null
                    : "evaluation run 20261126-020200-cccccc measured test_accuracy 0.95; the champion (version 3 of 'digits-cnn') has 0.97: not better, not published",
              },
              {
                taskId: "prepare",
                state: "success",
                tryNumber: 1,
                startDate: null,
                endDate: null,
                vtmRunId: "20261126-020000-aaaaaa",
              },
            ],
          },
        ],
      },
      { pipelineId: "weekly-report", inAirflow: false, dagRuns: [] },
    ],
    ...overrides,
  };
}

function serve(status: () => PipelinesStatus | Response) {
  const requests: string[] = [];
  const fetch = mockFetch((request) => {
    const path = new URL(request.url).pathname;
    requests.push(path);
    if (path === "/api/pipelines")
      return json({ pipelines: { "digits-nightly": nightly, "weekly-report": weekly } });
    if (path === "/api/pipelines/status") {
      const body = status();
      return body instanceof Response ? body : json(body);
    }
    return json({ error: { code: "not_found", message: "no", fields: [] } }, 404);
  });
  return { fetch, requests };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Pipelines page", () => {
  it("lists the catalog's pipelines with their steps and Airflow's latest DAG runs", async () => {
    serve(() => statusOf());
    renderWithProviders(<PipelinesPage />, { route: "/pipelines" });

    await waitFor(() => expect(screen.getByTestId("airflow-status")).toHaveAttribute("data-state", "ok"));
    expect(screen.getByTestId("airflow-ui-link")).toHaveAttribute("href", AIRFLOW);
    const card = screen.getByTestId("pipeline-digits-nightly");
    // The cron in words (in UTC, as Airflow reads it), as written, and when it next fires.
    const schedule = within(card).getByTestId("pipeline-schedule-digits-nightly");
    expect(schedule).toHaveTextContent("At 02:00, UTC (0 2 * * *)");
    expect(within(card).getByTestId("pipeline-next-run-digits-nightly")).toHaveTextContent(
      formatDateTime("2026-11-27T02:00:00Z"),
    );
    expect(within(card).getByTestId("pipeline-dag-runs-heading-digits-nightly")).toHaveTextContent(
      "Latest DAG runs",
    );
    expect(within(card).getByText("Nightly retrain")).toBeInTheDocument();

    const steps = within(within(card).getByTestId("pipeline-steps-digits-nightly"))
      .getAllByRole("row")
      .slice(1);
    expect(steps.map((row) => row.getAttribute("data-testid"))).toEqual([
      "pipeline-step-digits-nightly-prepare",
      "pipeline-step-digits-nightly-train",
      "pipeline-step-digits-nightly-publish",
    ]);
    expect(steps[0]).toHaveTextContent("snapshot={{ ds }}");
    expect(steps[1]).toHaveAttribute("data-kind", "task");
    expect(steps[1]).toHaveTextContent("prepare");
    expect(steps[1]).toHaveTextContent("timeout 1h");
    expect(within(card).getByTestId("pipeline-step-where-digits-nightly-train")).toHaveTextContent(
      "the Airflow worker (vtm exec), queue gpu-a100",
    );
    expect(within(card).getByTestId("pipeline-step-where-digits-nightly-prepare")).toHaveTextContent(/^VTM$/);
    expect(steps[2]).toHaveAttribute("data-kind", "publish");
    expect(steps[2]).toHaveTextContent("publish the best digits-cnn model");

    expect(within(card).getByTestId("pipeline-dag-link-digits-nightly")).toHaveAttribute(
      "href",
      `${AIRFLOW}/dags/digits-nightly`,
    );
    const row = within(card).getByTestId(`dag-run-${RUN_ID}`);
    expect(row).toHaveAttribute("data-state", "success");
    expect(within(row).getByTestId("dag-run-state")).toHaveTextContent("success");
    const chips = within(row).getAllByRole("listitem");
    expect(chips.map((c) => c.getAttribute("data-testid"))).toEqual([
      "dag-task-prepare",
      "dag-task-train",
      "dag-task-publish",
    ]);
    expect(within(row).getByTestId("dag-task-train")).toHaveTextContent("try 2");
    // Where Airflow ran it; a task that ran nowhere (yet) names no worker.
    expect(within(row).getByTestId("dag-task-where-train")).toHaveTextContent(
      "on gpu-worker-3 (queue gpu-a100)",
    );
    expect(within(row).queryByTestId("dag-task-where-prepare")).toBeNull();
    expect(within(row).queryByTestId("dag-task-where-publish")).toBeNull(); // skipped: never ran
    // A skipped publish step says why: its model did not beat the champion.
    expect(within(row).getByTestId("dag-task-publish")).toHaveAttribute("data-state", "skipped");
    expect(within(row).getByTestId("dag-task-note-publish")).toHaveTextContent(
      "has 0.97: not better, not published",
    );
    expect(within(row).queryByTestId("dag-task-note-train")).toBeNull();
    expect(within(row).getByTestId("dag-task-run-prepare")).toHaveAttribute(
      "href",
      "/runs/20261126-020000-aaaaaa",
    );
    expect(within(row).getByTestId("dag-task-run-train")).toHaveAttribute(
      "href",
      "/runs/20261126-020100-bbbbbb",
    );
    expect(within(row).queryByTestId("dag-task-run-publish")).toBeNull();
    expect(within(row).getByTestId("dag-task-airflow-train")).toHaveAttribute(
      "href",
      `${AIRFLOW}/dags/digits-nightly/runs/${encodeURIComponent(RUN_ID)}/tasks/train?try_number=2`,
    );

    const weeklyCard = screen.getByTestId("pipeline-weekly-report");
    expect(within(weeklyCard).getByTestId("pipeline-schedule-weekly-report")).toHaveTextContent("On demand");
    expect(within(weeklyCard).queryByTestId("pipeline-next-run-weekly-report")).toBeNull();
    expect(within(weeklyCard).getByTestId("pipeline-not-in-airflow-weekly-report")).toBeInTheDocument();
    expect(within(weeklyCard).queryByTestId("pipeline-dag-link-weekly-report")).toBeNull();
  });

  it("says when VTM is not connected to Airflow, and still lists the pipelines", async () => {
    serve(() => ({ airflowUrl: null, configured: false, error: null, pipelines: [] }));
    renderWithProviders(<PipelinesPage />, { route: "/pipelines" });
    const line = await screen.findByTestId("airflow-status");
    await waitFor(() => expect(line).toHaveAttribute("data-state", "unconfigured"));
    expect(line).toHaveTextContent("VTM_AIRFLOW_URL, VTM_AIRFLOW_USERNAME and VTM_AIRFLOW_PASSWORD");
    expect(await screen.findByTestId("pipeline-digits-nightly")).toBeInTheDocument();
    expect(screen.queryByTestId("pipeline-dag-runs-digits-nightly")).toBeNull();
    // No heading over nothing: DAG runs are not shown without Airflow.
    expect(screen.queryByText("Latest DAG runs")).toBeNull();
    // The settings are named as code, not with literal backticks.
    expect(line).not.toHaveTextContent("`");
    expect(within(line).getByText("vtm serve").tagName).toBe("CODE");
    expect(screen.queryByTestId("pipeline-not-in-airflow-weekly-report")).toBeNull();
    expect(screen.queryByTestId("airflow-ui-link")).toBeNull();
  });

  it("says why Airflow could not be read, without links into it", async () => {
    const error = "Airflow at http://127.0.0.1:8080 cannot be reached: [Errno 111] Connection refused";
    serve(() => ({ ...statusOf(), error, pipelines: [] }));
    renderWithProviders(<PipelinesPage />, { route: "/pipelines" });
    const line = await screen.findByRole("alert");
    expect(line).toHaveAttribute("data-testid", "airflow-status");
    expect(line).toHaveAttribute("data-state", "error");
    expect(line).toHaveTextContent("Connection refused");
    expect(await screen.findByTestId("pipeline-digits-nightly")).toBeInTheDocument();
    expect(screen.queryByTestId("airflow-ui-link")).toBeNull();
    expect(screen.queryByTestId("pipeline-dag-link-digits-nightly")).toBeNull();
  });

  it("says when VTM itself could not answer", async () => {
    serve(() => json({ error: { code: "internal", message: "boom", fields: [] } }, 500));
    renderWithProviders(<PipelinesPage />, { route: "/pipelines" });
    await waitFor(() => expect(screen.getByTestId("airflow-status")).toHaveAttribute("data-state", "error"));
  });

  it("polls every 10 s while a DAG run is active, every 30 s otherwise; Refresh asks at once", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let state = "running";
    const { requests } = serve(() => statusOf({}, state));
    const statusReads = () => requests.filter((p) => p === "/api/pipelines/status").length;
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    renderWithProviders(<PipelinesPage />, { route: "/pipelines" });
    await waitFor(() => expect(statusReads()).toBe(1));
    await screen.findByTestId(`dag-run-${RUN_ID}`);
    // A task not run yet says which queue it waits on.
    expect(screen.getByTestId("dag-task-where-publish")).toHaveTextContent("waiting on queue default");

    state = "success";
    await act(() => vi.advanceTimersByTimeAsync(ACTIVE_MS));
    await waitFor(() => expect(statusReads()).toBe(2));
    await waitFor(() =>
      expect(screen.getByTestId(`dag-run-${RUN_ID}`)).toHaveAttribute("data-state", "success"),
    );
    await act(() => vi.advanceTimersByTimeAsync(ACTIVE_MS));
    expect(statusReads()).toBe(2); // idle now: not before 30 s
    await act(() => vi.advanceTimersByTimeAsync(IDLE_MS - ACTIVE_MS));
    await waitFor(() => expect(statusReads()).toBe(3));

    await user.click(screen.getByTestId("pipelines-refresh"));
    await waitFor(() => expect(statusReads()).toBe(4));
  });
});

describe("Run origin on the run page", () => {
  function renderOrigin(run: RunRecord, airflowUrl: string | null = AIRFLOW) {
    mockFetch(() => json({ version: "1", mlflowUiUrl: null, tensorboardUrl: null, airflowUrl }));
    return renderWithProviders(<RunOrigin run={run} />);
  }
  const airflow = {
    dagId: "digits-nightly",
    runId: RUN_ID,
    taskId: "train",
    tryNumber: 2,
    mapIndex: -1,
    logicalDate: "2026-11-25T02:00:00Z",
  };

  it("shows the Airflow task try, links it in Airflow and the previous try's run", async () => {
    renderOrigin(
      makeRun({
        origin: { kind: "airflow", airflow, previousTryRunId: "20261126-020000-aaaaaa", host: null },
      }),
    );
    const origin = screen.getByTestId("run-origin");
    expect(origin).toHaveAttribute("data-kind", "airflow");
    expect(screen.getByTestId("run-origin-dag")).toHaveTextContent("digits-nightly");
    expect(screen.getByTestId("run-origin-dag-run")).toHaveTextContent(RUN_ID);
    expect(screen.getByTestId("run-origin-task")).toHaveTextContent("train");
    expect(screen.getByTestId("run-origin-try")).toHaveTextContent("2");
    expect(screen.getByTestId("run-origin-logical-date")).not.toHaveTextContent("—");
    expect(screen.getByTestId("run-previous-try")).toHaveAttribute("href", "/runs/20261126-020000-aaaaaa");
    expect(await screen.findByTestId("run-origin-airflow-link")).toHaveAttribute(
      "href",
      `${AIRFLOW}/dags/digits-nightly/runs/${encodeURIComponent(RUN_ID)}/tasks/train?try_number=2`,
    );
  });

  it("shows the host of a `vtm exec` run; nothing for a person's run", async () => {
    const { client, unmount } = renderOrigin(
      makeRun({ origin: { kind: "exec", airflow: null, previousTryRunId: null, host: "gpu-node-3" } }),
      null,
    );
    expect(screen.getByTestId("run-origin")).toHaveAttribute("data-kind", "exec");
    expect(screen.getByTestId("run-origin-host")).toHaveTextContent("gpu-node-3");
    await waitFor(() => expect(client.getQueryData(["config"])).toBeDefined());
    expect(screen.queryByTestId("run-origin-airflow-link")).toBeNull();
    expect(screen.queryByTestId("run-previous-try")).toBeNull();
    unmount();

    renderOrigin(makeRun());
    expect(screen.queryByTestId("run-origin")).toBeNull();
  });
});
