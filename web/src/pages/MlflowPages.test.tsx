import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useLocation } from "react-router";
import uPlot from "uplot";
import { afterEach, describe, expect, it, vi } from "vitest";
import type {
  ArtifactListing,
  MetricHistory,
  MlflowRun,
  MlflowRunDetail,
  RegisteredModel,
  RunComparison,
  Task,
} from "../api/types";
import { RunLinks } from "../components/RunLinks";
import { formatDateTime } from "../lib/format";
import { json, makeRun, makeTask, mockFetch, renderWithProviders } from "../test/fixtures";
import { MlflowExperimentPage } from "./MlflowExperimentPage";
import { MlflowModelsPage } from "./MlflowModelsPage";
import { MlflowPage } from "./MlflowPage";
import { MlflowRunPage } from "./MlflowRunPage";
import { MlflowVtmRunPage } from "./MlflowVtmRunPage";

const BASE = "2026-11-26T12:00:00Z";
const status = {
  trackingUri: "sqlite:////home/vtm/.vtm/mlflow/mlflow.db",
  embedded: true,
  uiUrl: "http://127.0.0.1:5000",
  reachable: true,
  error: null,
  creating: false,
};
const experiment = {
  id: "1",
  name: "digits-cnn",
  artifactLocation: "file:///home/vtm/.vtm/mlflow/artifacts/digits-cnn",
  lifecycleStage: "active",
  creationTime: BASE,
  lastUpdateTime: BASE,
  latestRunTime: "2026-11-27T08:30:00Z",
  tags: { team: "cv" },
};
// The catalog task that logs to the experiment: its primary metric leads the runs table.
const catalog = {
  status: "ok",
  path: "c.yaml",
  loadedAt: null,
  error: null,
  tasks: [
    makeTask({
      primaryMetric: { name: "val/accuracy", goal: "max" },
      mlflow: { experiment: "digits-cnn", registeredModel: "digits-cnn" },
    }),
  ],
};

function mlflowRun(overrides: Partial<MlflowRun>): MlflowRun {
  return {
    id: "a".repeat(32),
    name: "baseline",
    experimentId: "1",
    status: "FINISHED",
    startTime: BASE,
    endTime: "2026-11-26T12:00:30Z",
    lifecycleStage: "active",
    artifactUri: "file:///x",
    userId: "vtm",
    params: {},
    metrics: {},
    tags: {},
    vtmRunId: null,
    ...overrides,
  };
}

const baseline = mlflowRun({
  params: { lr: "0.01", epochs: "3" },
  metrics: { "val/accuracy": 0.75, loss: 0.5 },
  tags: { "vtm.run_id": "20261126-120000-aaaaaa", "mlflow.user": "vtm" },
  vtmRunId: "20261126-120000-aaaaaa",
});
const lowerLr = mlflowRun({
  id: "b".repeat(32),
  name: "lower-lr",
  status: "FAILED",
  params: { lr: "0.001", epochs: "3" },
  metrics: { "val/accuracy": 0.55 },
});
const modelId = "m-0123";
const detail: MlflowRunDetail = {
  run: baseline,
  experimentName: "digits-cnn",
  loggedModels: [
    {
      id: modelId,
      name: "model",
      experimentId: "1",
      sourceRunId: baseline.id,
      modelUri: `models:/${modelId}`,
      artifactLocation: `file:///x/models/${modelId}/artifacts`,
      status: "READY",
      modelType: null,
      creationTime: BASE,
      lastUpdatedTime: BASE,
      tags: {},
    },
  ],
};
const comparison: RunComparison = {
  runs: [baseline, lowerLr],
  params: [
    { key: "epochs", values: { [baseline.id]: "3", [lowerLr.id]: "3" }, differs: false },
    { key: "lr", values: { [baseline.id]: "0.01", [lowerLr.id]: "0.001" }, differs: true },
  ],
  metrics: [
    { key: "loss", values: { [baseline.id]: 0.5, [lowerLr.id]: null }, differs: true },
    { key: "val/accuracy", values: { [baseline.id]: 0.75, [lowerLr.id]: 0.55 }, differs: true },
  ],
};
const models: RegisteredModel[] = [
  {
    name: "digits-cnn",
    description: "digits",
    creationTime: BASE,
    lastUpdatedTime: BASE,
    tags: {},
    aliases: { champion: "2" },
    versions: [
      {
        version: "2",
        runId: baseline.id,
        source: `models:/${modelId}`,
        status: "READY",
        creationTime: BASE,
        description: null,
        aliases: ["champion"],
      },
      {
        version: "1",
        runId: lowerLr.id,
        source: "models:/m-0001",
        status: "READY",
        creationTime: BASE,
        description: null,
        aliases: [],
      },
    ],
  },
];

function history(runId: string, key: string): MetricHistory {
  const values = runId === baseline.id ? [0.5, 0.6, 0.75] : [0.4, 0.55];
  return {
    runId,
    key,
    points: values.map((value, step) => ({
      step,
      timestamp: BASE,
      value: key === "loss" ? 1 - value : value,
    })),
  };
}

function listing(kind: string, path: string): ArtifactListing {
  if (kind === "logged-models") {
    return { path, entries: [{ path: "MLmodel", name: "MLmodel", isDir: false, size: 612 }] };
  }
  if (path === "notes") {
    return {
      path,
      entries: [{ path: "notes/summary.txt", name: "summary.txt", isDir: false, size: 2048 }],
    };
  }
  return {
    path: "",
    entries: [
      { path: "notes", name: "notes", isDir: true, size: null },
      { path: "top.txt", name: "top.txt", isDir: false, size: 10 },
    ],
  };
}

function serve() {
  const requests: Request[] = [];
  const fetch = mockFetch((request) => {
    requests.push(request);
    const url = new URL(request.url);
    const path = url.pathname;
    const notFound = () =>
      json({ error: { code: "not_found", message: "VTM run x has no MLflow run", fields: [] } }, 404);
    if (path === "/api/config") return json({ version: "1", mlflowUiUrl: null, tensorboardUrl: null });
    if (path === "/api/catalog") return json(catalog);
    if (path === "/api/mlflow/status") return json(status);
    if (path === "/api/mlflow/experiments") return json({ experiments: [experiment] });
    if (path === "/api/mlflow/experiments/1/runs") {
      return json({ experiment, runs: [lowerLr, baseline], nextPageToken: null });
    }
    if (path === "/api/mlflow/experiments/404/runs") return notFound();
    if (path === "/api/mlflow/compare") return json(comparison);
    if (path === "/api/mlflow/registered-models") return json({ models });
    if (path.endsWith("/metric-history")) {
      return json(history(path.split("/")[4]!, url.searchParams.get("key")!));
    }
    if (path.endsWith("/artifacts/download")) {
      return new Response("file body", { headers: { "content-type": "application/octet-stream" } });
    }
    if (path.endsWith("/artifacts"))
      return json(listing(path.split("/")[3]!, url.searchParams.get("path") ?? ""));
    if (path === `/api/mlflow/runs/${baseline.id}`) return json(detail);
    if (path === "/api/mlflow/vtm-runs/20261126-120000-aaaaaa") {
      return json({
        vtmRunId: "20261126-120000-aaaaaa",
        mlflowRunId: baseline.id,
        linkedBy: "tag",
        run: baseline,
      });
    }
    if (path === "/api/mlflow/vtm-runs/20261126-120000-bbbbbb") {
      return json({ vtmRunId: "20261126-120000-bbbbbb", mlflowRunId: null, linkedBy: null, run: null });
    }
    return notFound();
  });
  return { fetch, requests };
}

function Where() {
  const location = useLocation();
  return <output data-testid="where">{location.pathname + location.search}</output>;
}

function renderMlflow(route: string) {
  return renderWithProviders(
    <>
      <Routes>
        <Route path="/mlflow" element={<MlflowPage />} />
        <Route path="/mlflow/experiments/:experimentId" element={<MlflowExperimentPage />} />
        <Route path="/mlflow/runs/:runId" element={<MlflowRunPage />} />
        <Route path="/mlflow/models" element={<MlflowModelsPage />} />
        <Route path="/mlflow/vtm/:vtmRunId" element={<MlflowVtmRunPage />} />
        <Route path="*" element={<p>elsewhere</p>} />
      </Routes>
      <Where />
    </>,
    { route },
  );
}

/** A link's address on this origin (the API client builds absolute URLs). */
function address(link: HTMLElement): string {
  const url = new URL(link.getAttribute("href")!);
  expect(url.origin).toBe(window.location.origin);
  return url.pathname + url.search;
}

type Plot = { opts: { series: { label?: string }[] }; data: (number | null)[][]; target: HTMLElement };
const plots = () => (uPlot as unknown as { instances: Plot[] }).instances;
const plotIn = (figure: HTMLElement) =>
  plots()
    .filter((p) => figure.contains(p.target))
    .at(-1)!;

afterEach(() => {
  window.localStorage.clear();
  vi.unstubAllGlobals();
});

describe("MLflow page", () => {
  it("lists experiments and opens one's runs with a column per param and metric", async () => {
    serve();
    const user = userEvent.setup();
    renderMlflow("/mlflow");
    await waitFor(() =>
      expect(screen.getByTestId("mlflow-status")).toHaveAttribute("data-reachable", "true"),
    );
    expect(screen.getByTestId("mlflow-ui-link")).toHaveAttribute("href", "http://127.0.0.1:5000");
    const row = await screen.findByTestId("experiment-row-1");
    expect(row).toHaveTextContent("team=cv");
    // "Last update" is the latest run's time, not MLflow's own last_update_time.
    expect(screen.getByTestId("experiment-last-update-1")).toHaveTextContent(
      formatDateTime("2026-11-27T08:30:00Z"),
    );
    await user.click(within(row).getByRole("link", { name: "digits-cnn" }));

    const table = await screen.findByTestId("mlflow-runs-table");
    await waitFor(() => expect(within(table).getByTestId("mlflow-primary-metric")).toBeInTheDocument());
    const headers = within(table)
      .getAllByRole("columnheader")
      .map((h) => h.textContent);
    // The run, its status and the catalog task's primary metric lead (a phone shows them);
    // the rest follow.
    expect(headers.slice(-10)).toEqual([
      "Compare",
      "Run",
      "Status",
      "val/accuracy",
      "Started",
      "Duration",
      "VTM run",
      "epochs",
      "lr",
      "loss",
    ]);
    expect(headers).toEqual(expect.arrayContaining(["Params", "Other metrics"]));
    // Newest first, as the server sent them.
    const rows = within(table).getAllByRole("row").slice(2);
    expect(rows.map((r) => r.dataset.testid)).toEqual([
      `mlflow-run-row-${lowerLr.id}`,
      `mlflow-run-row-${baseline.id}`,
    ]);
    expect(screen.getByTestId(`mlflow-metric-${baseline.id}-val/accuracy`)).toHaveTextContent("0.75");
    expect(screen.getByTestId(`mlflow-metric-${lowerLr.id}-loss`)).toHaveTextContent("—");
    expect(within(rows[1]!).getByTestId("mlflow-run-status")).toHaveAttribute("data-status", "FINISHED");
    expect(within(rows[1]!).getByRole("link", { name: "20261126-120000-aaaaaa" })).toHaveAttribute(
      "href",
      "/runs/20261126-120000-aaaaaa",
    );
  });

  it("compares picked runs: differing params highlighted, one metric of each run on one chart", async () => {
    const { requests } = serve();
    const user = userEvent.setup();
    renderMlflow("/mlflow/experiments/1");
    await user.click(await screen.findByTestId(`mlflow-compare-${baseline.id}`));
    expect(screen.getByTestId("mlflow-compare")).toHaveTextContent("Pick at least one more run");
    await user.click(screen.getByTestId(`mlflow-compare-${lowerLr.id}`));
    expect(screen.getByTestId("where")).toHaveTextContent(`compare=${baseline.id}%2C${lowerLr.id}`);

    const lr = await screen.findByTestId("mlflow-compare-param-lr");
    expect(lr).toHaveAttribute("data-differs", "true");
    expect(lr).toHaveClass("differs");
    expect(lr).toHaveTextContent("0.001");
    expect(screen.getByTestId("mlflow-compare-param-epochs")).not.toHaveClass("differs");
    expect(screen.getByTestId("mlflow-compare-summary")).toHaveTextContent("1 of 2 params differ");
    const compared = requests.find((r) => new URL(r.url).pathname === "/api/mlflow/compare")!;
    expect(new URL(compared.url).searchParams.getAll("runId")).toEqual([baseline.id, lowerLr.id]);

    await user.selectOptions(screen.getByTestId("mlflow-compare-metric"), "val/accuracy");
    const chart = screen.getByTestId("mlflow-compare-chart");
    await waitFor(() =>
      expect(plotIn(chart).data).toEqual([
        [0, 1, 2],
        [0.5, 0.6, 0.75],
        [0.4, 0.55, null],
      ]),
    );
    expect(plotIn(chart).opts.series.map((s) => s.label)).toEqual(["step", "baseline", "lower-lr"]);
    const histories = requests.filter((r) => r.url.includes("/metric-history"));
    expect(histories.map((r) => new URL(r.url).searchParams.get("key"))).toContain("val/accuracy");
  });

  it("shows a run: metric histories, params, tags, artifacts to browse and download, logged models", async () => {
    serve();
    const user = userEvent.setup();
    renderMlflow(`/mlflow/runs/${baseline.id}`);
    expect(await screen.findByTestId("mlflow-run-name")).toHaveTextContent("baseline");
    const chart = await screen.findByTestId("mlflow-metric-chart-val/accuracy");
    await waitFor(() =>
      expect(plotIn(chart).data).toEqual([
        [0, 1, 2],
        [0.5, 0.6, 0.75],
      ]),
    );
    expect(screen.getByTestId("mlflow-metric-chart-loss")).toBeInTheDocument();
    expect(within(screen.getByTestId("mlflow-params")).getByText("0.01")).toBeInTheDocument();
    // MLflow's own tags are folded away; the run's own are shown.
    expect(screen.getByTestId("mlflow-tags")).toHaveTextContent("vtm.run_id");
    expect(screen.getByTestId("mlflow-tags")).not.toHaveTextContent("mlflow.user");
    expect(screen.getByTestId("mlflow-vtm-run")).toHaveAttribute("href", "/runs/20261126-120000-aaaaaa");

    const browser = screen.getByTestId("run-artifacts");
    const folder = await within(browser).findByTestId("artifact-dir-notes");
    // The UI's own icon, not an emoji that a system without an emoji font draws as a box.
    expect(folder.querySelector("svg")).not.toBeNull();
    expect(folder).toHaveTextContent(/^notes\/$/);
    await user.click(folder);
    const file = await within(browser).findByTestId("artifact-file-notes/summary.txt");
    expect(browser).toHaveAttribute("data-path", "notes");
    expect(address(file)).toBe(`/api/mlflow/runs/${baseline.id}/artifacts/download?path=notes%2Fsummary.txt`);
    expect(file).toHaveAttribute("download", "summary.txt");
    expect(within(browser).getByText("2.0 KB")).toBeInTheDocument();
    await user.click(within(browser).getByTestId("artifact-crumb-"));
    expect(await within(browser).findByTestId("artifact-file-top.txt")).toBeInTheDocument();

    const model = screen.getByTestId(`logged-model-${modelId}`);
    expect(model).toHaveTextContent(`models:/${modelId}`);
    const mlmodel = await within(model).findByTestId("artifact-file-MLmodel");
    expect(address(mlmodel)).toBe(`/api/mlflow/logged-models/${modelId}/artifacts/download?path=MLmodel`);
  });

  it("downloads through a fetch with the token header when the UI has a token", async () => {
    const { requests } = serve();
    window.localStorage.setItem("vtm.token", "s3cret");
    const created: Blob[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: (b: Blob) => (created.push(b), "blob:x") }));
    const user = userEvent.setup();
    renderMlflow(`/mlflow/runs/${baseline.id}`);
    const file = await screen.findByTestId("artifact-file-top.txt");
    await user.click(file);
    await waitFor(() => expect(created).toHaveLength(1));
    expect(await created[0]!.text()).toBe("file body");
    const download = requests.find((r) => r.url.includes("/artifacts/download"))!;
    expect(download.headers.get("Authorization")).toBe("Bearer s3cret");
    expect(download.url).not.toContain("s3cret");
  });

  it("lists registered models with their versions and aliases", async () => {
    serve();
    renderMlflow("/mlflow/models");
    const model = await screen.findByTestId("registered-model-digits-cnn");
    expect(within(model).getByTestId("model-alias-champion")).toHaveTextContent("@champion → v2");
    const v2 = within(model).getByTestId("model-version-digits-cnn-2");
    expect(v2).toHaveTextContent("@champion");
    expect(v2).toHaveTextContent(`models:/${modelId}`);
    expect(within(v2).getByRole("link")).toHaveAttribute("href", `/mlflow/runs/${baseline.id}`);
    expect(within(model).getByTestId("model-version-digits-cnn-1")).toHaveTextContent("—");
  });

  it("finds the MLflow run of a VTM run, or says there is none", async () => {
    serve();
    renderMlflow("/mlflow/vtm/20261126-120000-aaaaaa");
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent(`/mlflow/runs/${baseline.id}`));
  });

  it("says when a VTM run has no MLflow run, and when there is no such VTM run", async () => {
    serve();
    renderMlflow("/mlflow/vtm/20261126-120000-bbbbbb");
    expect(await screen.findByTestId("mlflow-no-linked-run")).toHaveTextContent(
      "VTM run 20261126-120000-bbbbbb has no MLflow run",
    );
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says when the VTM run itself does not exist", async () => {
    serve();
    renderMlflow("/mlflow/vtm/20261126-120000-cccccc");
    expect(await screen.findByTestId("mlflow-no-vtm-run")).toHaveTextContent("has no MLflow run");
  });

  it("says when an experiment does not exist", async () => {
    serve();
    renderMlflow("/mlflow/experiments/404");
    expect(await screen.findByRole("alert")).toHaveTextContent("There is no MLflow experiment 404");
  });

  it("says when the tracking store does not answer", async () => {
    serve();
    mockFetch((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/mlflow/status") {
        return json({ ...status, uiUrl: null, reachable: false, error: "MLflow cannot be reached" });
      }
      return json(
        { error: { code: "upstream_failed", message: "MLflow could not list experiments", fields: [] } },
        502,
      );
    });
    renderMlflow("/mlflow");
    await waitFor(() =>
      expect(screen.getByTestId("mlflow-status")).toHaveAttribute("data-reachable", "false"),
    );
    expect(screen.getByTestId("mlflow-status")).toHaveTextContent("unreachable: MLflow cannot be reached");
    expect(screen.queryByTestId("mlflow-ui-link")).toBeNull();
    expect(await screen.findByRole("alert")).toHaveTextContent("MLflow could not list experiments");
  });
});

describe("MLflow store being created", () => {
  it("says so, not 'unreachable', and asks again until the store answers", async () => {
    let asked = 0;
    mockFetch((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/mlflow/status") {
        asked += 1;
        return asked === 1
          ? json({
              ...status,
              reachable: false,
              creating: true,
              error: "the embedded store is being created",
            })
          : json(status);
      }
      return json({ experiments: [experiment] });
    });
    renderMlflow("/mlflow");
    await waitFor(() => expect(screen.getByTestId("mlflow-status")).toHaveTextContent("creating the store…"));
    expect(screen.getByTestId("mlflow-status")).not.toHaveTextContent("unreachable");
    expect(screen.getByTestId("mlflow-status")).not.toHaveClass("error-text");
    // Asked again within seconds, not after the 30 s idle interval.
    await waitFor(
      () => expect(screen.getByTestId("mlflow-status")).toHaveAttribute("data-reachable", "true"),
      {
        timeout: 3000,
      },
    );
    expect(screen.getByTestId("mlflow-status")).not.toHaveTextContent("creating");
  });
});

describe("Run page links", () => {
  const usesMlflow = makeTask({ mlflow: { experiment: "digits-cnn", registeredModel: "digits-cnn" } });

  function renderLinks(
    run = makeRun(),
    config: Record<string, unknown> = {},
    task: Task | undefined = usesMlflow,
  ) {
    mockFetch(() => json({ version: "1", mlflowUiUrl: null, tensorboardUrl: null, ...config }));
    return renderWithProviders(<RunLinks run={run} task={task} />);
  }

  it("links the MLflow run on VTM's page, and TensorBoard filtered to the run", async () => {
    // Reported by the trainer: linked whether or not the catalog says the task uses MLflow.
    renderLinks(
      makeRun({ mlflowRunId: baseline.id }),
      { tensorboardUrl: "http://127.0.0.1:6006" },
      makeTask(),
    );
    expect(screen.getByTestId("run-link-mlflow")).toHaveAttribute("href", `/mlflow/runs/${baseline.id}`);
    expect(await screen.findByTestId("run-link-tensorboard")).toHaveAttribute(
      "href",
      "http://127.0.0.1:6006/?runFilter=20261126-120000-aaaaaa#timeseries",
    );
  });

  it("looks the MLflow run up by tag when the trainer did not report it; no TensorBoard without a URL", async () => {
    const { client } = renderLinks();
    expect(screen.getByTestId("run-link-mlflow")).toHaveAttribute(
      "href",
      "/mlflow/vtm/20261126-120000-aaaaaa",
    );
    await waitFor(() => expect(client.getQueryData(["config"])).toBeDefined());
    expect(screen.queryByTestId("run-link-tensorboard")).toBeNull();
  });

  it("offers no MLflow look-up for a task whose catalog entry declares no MLflow", async () => {
    const { client } = renderLinks(makeRun(), {}, makeTask({ mlflow: null }));
    await waitFor(() => expect(client.getQueryData(["config"])).toBeDefined());
    expect(screen.queryByTestId("run-link-mlflow")).toBeNull();
  });
});
