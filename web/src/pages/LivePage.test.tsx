import { QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { beforeEach, describe, expect, it } from "vitest";
import { AppRoutes } from "../App";
import { EventStreamProvider } from "../api/EventStreamProvider";
import { RunEventStream } from "../api/events";
import type { GpusResponse, RunRecord } from "../api/types";
import { formatDateTime } from "../lib/format";
import { FakeEventSource } from "../test/fakeEventSource";
import { json, makeGpu, makeRun, makeTask, mockFetch, testClient } from "../test/fixtures";

const catalog = {
  status: "ok",
  path: "c.yaml",
  loadedAt: null,
  error: null,
  tasks: [makeTask(), makeTask({ id: "two-gpus", title: "Two GPUs", gpus: 2 })],
};
const running = makeRun({
  startedAt: new Date(Date.now() - 20_000).toISOString(),
  progress: { epoch: 2, total_epochs: 10, val_accuracy: 0.8123456, device: "cuda:0" },
});

interface Serve {
  gpus?: GpusResponse;
  /** Answers PATCH /api/runs/{id}; the body it was sent is handed in. */
  patch?: (id: string, body: unknown) => Response;
}

function serve(active: RunRecord[], stopped: RunRecord, options: Serve = {}) {
  const requests: string[] = [];
  const bodies: unknown[] = [];
  const fetch = mockFetch(async (request) => {
    const url = new URL(request.url);
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    if (url.pathname === "/api/catalog") return json(catalog);
    if (url.pathname === "/api/config") return json({ version: "1", mlflowUiUrl: null });
    if (url.pathname === "/api/gpus") return json(options.gpus ?? { gpus: [], source: "declared" });
    if (url.pathname.endsWith("/stop")) return json(stopped);
    if (request.method === "PATCH" && options.patch) {
      const body: unknown = await request.json();
      bodies.push(body);
      return options.patch(url.pathname.split("/").at(-1) ?? "", body);
    }
    if (url.pathname === "/api/runs") {
      const wantsActive = url.searchParams.getAll("status").includes("running");
      return json({ runs: wantsActive ? active : [], nextCursor: null });
    }
    return json({ error: { code: "not_found", message: "no", fields: [] } }, 404);
  });
  return { fetch, requests, bodies };
}

function renderApp() {
  const client = testClient();
  const stream = new RunEventStream(client, {
    url: () => "http://vtm.test/api/events",
    createEventSource: (u) => new FakeEventSource(u),
  });
  render(
    <QueryClientProvider client={client}>
      <EventStreamProvider stream={stream}>
        <MemoryRouter initialEntries={["/"]}>
          <AppRoutes />
        </MemoryRouter>
      </EventStreamProvider>
    </QueryClientProvider>,
  );
  return FakeEventSource.latest();
}

beforeEach(() => {
  FakeEventSource.instances = [];
});

describe("Live runs page", () => {
  it("shows each run's task, status, progress, primary metric and device, and follows events", async () => {
    serve([running], running);
    const source = renderApp();
    const row = await screen.findByTestId(`run-row-${running.id}`);
    expect(await within(row).findByText("Digits CNN")).toBeInTheDocument();
    expect(within(row).getByTestId("run-status")).toHaveTextContent("running");
    expect(within(row).getByTestId("primary-metric")).toHaveTextContent("0.8123");
    expect(within(row).getByTestId("run-device")).toHaveTextContent("cuda:0");
    const bar = within(row).getByRole("progressbar");
    expect(bar).toHaveAttribute("aria-valuenow", "2");

    act(() => {
      source.emit(
        "run.updated",
        { ...running, progress: { ...running.progress, epoch: 3 }, updatedAt: new Date().toISOString() },
        "b-1",
      );
    });
    // TanStack Query notifies observers on the next tick.
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "3"));
  });

  it("says when the stream is live, reconnecting and catching up", async () => {
    serve([], running);
    const source = renderApp();
    const status = screen.getByTestId("connection-status");
    act(() => {
      source.open();
      source.emit("hello", { boot: "b", replayed: true });
    });
    await waitFor(() => expect(status).toHaveTextContent("Live"));
    act(() => source.emit("run.updated", running, "b-1"));
    act(() => source.fail());
    expect(status).toHaveTextContent("Reconnecting…");
    act(() => source.open());
    expect(status).toHaveTextContent("Catching up…");
    act(() => source.emit("hello", { boot: "b", replayed: true }));
    expect(status).toHaveTextContent("Live");
  });

  it("stops a run only after confirmation", async () => {
    const { requests } = serve([running], { ...running, stopRequested: true });
    renderApp();
    const user = userEvent.setup();
    const row = await screen.findByTestId(`run-row-${running.id}`);
    await user.click(within(row).getByTestId("stop-button"));
    expect(within(row).getByRole("alertdialog")).toBeInTheDocument();
    expect(within(row).getByTestId("stop-cancel")).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(within(row).queryByRole("alertdialog")).toBeNull();
    expect(requests.some((r) => r.startsWith("POST"))).toBe(false);

    await user.click(within(row).getByTestId("stop-button"));
    await user.click(within(row).getByTestId("stop-confirm"));
    await waitFor(() => expect(requests).toContain(`POST /api/runs/${running.id}/stop`));
    expect(await within(row).findByText("Stopping…")).toBeInTheDocument();
  });
});

const SOON = new Date(Date.now() + 5 * 60_000 + 30_000).toISOString();
const waitingLong = makeRun({
  id: "20261126-120100-bbbbbb",
  taskId: "two-gpus",
  status: "queued",
  startedAt: null,
  createdAt: "2026-11-26T12:01:00Z",
  queue: {
    position: 2,
    reason: "needs 2 GPUs, 1 free; behind 1 run of higher priority",
    estimatedStartAt: null,
  },
});
const waitingNext = makeRun({
  id: "20261126-120200-cccccc",
  status: "queued",
  startedAt: null,
  createdAt: "2026-11-26T12:02:00Z",
  priority: 5,
  queue: { position: 1, reason: "needs 1 GPU, 0 free", estimatedStartAt: SOON },
});

const queueRows = () => within(screen.getByTestId("queue")).getAllByRole("listitem");

describe("the queue on the live page", () => {
  it("lists queued runs in queue order with why they wait and when they should start", async () => {
    serve([running, waitingLong, waitingNext], running);
    const source = renderApp();
    await screen.findByTestId(`queue-row-${waitingNext.id}`);
    const rows = queueRows();
    expect(rows.map((row) => row.dataset.testid)).toEqual([
      `queue-row-${waitingNext.id}`,
      `queue-row-${waitingLong.id}`,
    ]);
    const [first, second] = rows as [HTMLElement, HTMLElement];
    expect(within(first).getByTestId("queue-position")).toHaveTextContent("#1");
    expect(within(first).getByTestId("queue-reason")).toHaveTextContent("needs 1 GPU, 0 free");
    const estimate = within(first).getByTestId("queue-estimate");
    expect(estimate).toHaveTextContent(/^in 5m \d\ds \(/); // the clock moves on while the test runs
    expect(estimate).toHaveTextContent(`(${formatDateTime(SOON)})`);
    expect(within(first).getByTestId("priority-input")).toHaveValue(5);
    expect(within(first).getByTestId("queue-run-link")).toHaveAttribute("href", `/runs/${waitingNext.id}`);
    expect(await within(second).findByText("Two GPUs")).toBeInTheDocument();
    expect(within(second).getByTestId("queue-position")).toHaveTextContent("#2");
    expect(within(second).getByTestId("queue-reason")).toHaveTextContent(
      "needs 2 GPUs, 1 free; behind 1 run of higher priority",
    );
    expect(within(second).getByTestId("queue-estimate")).toHaveTextContent("unknown");
    // Running runs are listed apart, queued ones only in the queue.
    const activeList = screen.getByTestId("active-runs");
    expect(within(activeList).getByTestId(`run-row-${running.id}`)).toBeInTheDocument();
    expect(within(activeList).queryByTestId(`run-row-${waitingNext.id}`)).toBeNull();

    // The first one starts: it leaves the queue for the running runs, and the other moves up.
    act(() => {
      source.emit(
        "run.updated",
        { ...waitingNext, status: "running", queue: null, updatedAt: "2026-11-26T12:05:00Z" },
        "b-1",
      );
      source.emit(
        "run.updated",
        {
          ...waitingLong,
          queue: { position: 1, reason: "needs 2 GPUs, 0 free", estimatedStartAt: null },
          updatedAt: "2026-11-26T12:05:00Z",
        },
        "b-2",
      );
    });
    await waitFor(() => expect(queueRows()).toHaveLength(1));
    expect(within(queueRows()[0]!).getByTestId("queue-position")).toHaveTextContent("#1");
    expect(within(queueRows()[0]!).getByTestId("queue-reason")).toHaveTextContent("needs 2 GPUs, 0 free");
    expect(within(activeList).getByTestId(`run-row-${waitingNext.id}`)).toBeInTheDocument();

    act(() => {
      source.emit(
        "run.updated",
        { ...waitingLong, status: "running", queue: null, updatedAt: "2026-11-26T12:06:00Z" },
        "b-3",
      );
    });
    expect(await screen.findByTestId("queue-empty")).toHaveTextContent("No run is waiting.");
  });

  it("changes a queued run's priority, and shows the server's refusal", async () => {
    let answer: "ok" | "conflict" = "ok";
    const { requests, bodies } = serve([waitingLong, waitingNext], running, {
      patch: (id, body) => {
        if (answer === "conflict") {
          const message = `run ${id} is no longer queued: its priority cannot change`;
          return json({ error: { code: "conflict", message, fields: [] } }, 409);
        }
        const priority = (body as { priority: number }).priority;
        return json({
          ...waitingLong,
          priority,
          queue: { position: 1, reason: "needs 2 GPUs, 1 free", estimatedStartAt: null },
          updatedAt: "2026-11-26T12:03:00Z",
        });
      },
    });
    renderApp();
    const user = userEvent.setup();
    const row = await screen.findByTestId(`queue-row-${waitingLong.id}`);
    const input = within(row).getByTestId("priority-input");
    const submit = within(row).getByTestId("priority-submit");
    expect(input).toHaveValue(0);
    expect(submit).toBeDisabled(); // nothing changed yet
    await user.clear(input);
    await user.type(input, "9");
    await user.click(submit);
    await waitFor(() => expect(requests).toContain(`PATCH /api/runs/${waitingLong.id}`));
    expect(bodies).toEqual([{ priority: 9 }]);
    // The answer moves it to the front of the queue.
    await waitFor(() => expect(queueRows()[0]).toBe(row));
    expect(within(row).getByTestId("queue-position")).toHaveTextContent("#1");
    expect(input).toHaveValue(9);
    expect(submit).toBeDisabled();

    // Too high: refused here, nothing sent.
    await user.clear(input);
    await user.type(input, "5000");
    await user.click(submit);
    expect(within(row).getByTestId("priority-error")).toHaveTextContent("must be at most 1000 (got 5000)");
    expect(bodies).toHaveLength(1);

    // The run started meanwhile: the server's 409 is said beside the box.
    answer = "conflict";
    await user.clear(input);
    await user.type(input, "3");
    expect(within(row).queryByTestId("priority-error")).toBeNull();
    await user.click(submit);
    expect(await within(row).findByTestId("priority-error")).toHaveTextContent(
      `run ${waitingLong.id} is no longer queued: its priority cannot change`,
    );
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(bodies).toEqual([{ priority: 9 }, { priority: 3 }]);
  });

  it("cancels a queued run", async () => {
    const cancelled = {
      ...waitingNext,
      status: "stopped" as const,
      queue: null,
      updatedAt: "2026-11-26T12:04:00Z",
    };
    const { requests } = serve([waitingLong, waitingNext], cancelled);
    renderApp();
    const user = userEvent.setup();
    const row = await screen.findByTestId(`queue-row-${waitingNext.id}`);
    await user.click(within(row).getByTestId("queue-cancel"));
    await waitFor(() => expect(requests).toContain(`POST /api/runs/${waitingNext.id}/stop`));
    await waitFor(() => expect(screen.queryByTestId(`queue-row-${waitingNext.id}`)).toBeNull());
    expect(queueRows().map((r) => r.dataset.testid)).toEqual([`queue-row-${waitingLong.id}`]);
  });
});

describe("the GPUs panel", () => {
  const gpus: GpusResponse = {
    source: "nvml",
    gpus: [
      makeGpu({ index: 0, memoryUsed: 12_288, utilization: 35, runId: running.id }),
      makeGpu({ index: 1, memoryUsed: 30_000, utilization: 90, outsideUse: true }),
      makeGpu({ index: 2 }),
    ],
  };

  it("shows each GPU's memory, load and holder, marks outside use, and follows gpus.updated", async () => {
    serve([running], running, { gpus });
    const source = renderApp();
    const held = await screen.findByTestId("gpu-0");
    expect(held).toHaveTextContent("GPU 0");
    expect(within(held).getByTestId("gpu-name")).toHaveTextContent("Fake A100");
    expect(within(held).getByTestId("gpu-memory")).toHaveTextContent("12.0 / 40.0 GiB");
    expect(within(held).getByTestId("gpu-utilization")).toHaveTextContent("35%");
    expect(within(held).getByTestId("gpu-run-link")).toHaveAttribute("href", `/runs/${running.id}`);
    expect(await within(held).findByText("Digits CNN")).toBeInTheDocument();
    expect(within(held).queryByTestId("gpu-outside-use")).toBeNull();
    const outside = screen.getByTestId("gpu-1");
    expect(outside).toHaveAttribute("data-state", "outside");
    expect(within(outside).getByTestId("gpu-outside-use")).toHaveTextContent("in use outside VTM");
    expect(within(outside).getByTestId("gpu-holder")).toHaveTextContent("not handed out");
    expect(within(screen.getByTestId("gpu-2")).getByTestId("gpu-holder")).toHaveTextContent("free");
    expect(screen.getByTestId("gpu-source")).toHaveTextContent("found by NVML");

    act(() => {
      source.emit("gpus.updated", {
        source: "nvml",
        gpus: [
          { ...gpus.gpus[0], utilization: 80 },
          { ...gpus.gpus[1], outsideUse: false, memoryUsed: 0 },
          { ...gpus.gpus[2], runId: "20261126-130000-dddddd" },
        ],
      });
    });
    await waitFor(() => expect(within(held).getByTestId("gpu-utilization")).toHaveTextContent("80%"));
    expect(within(outside).queryByTestId("gpu-outside-use")).toBeNull();
    expect(within(outside).getByTestId("gpu-holder")).toHaveTextContent("free");
    expect(within(screen.getByTestId("gpu-2")).getByTestId("gpu-run-link")).toHaveTextContent(
      "20261126-130000-dddddd",
    );
  });

  it("says in one line that the server has no GPUs", async () => {
    serve([running], running);
    renderApp();
    expect(await screen.findByTestId("no-gpus")).toHaveTextContent("No GPUs (VTM_GPUS=none or no NVML).");
    expect(screen.queryByTestId("gpus")).toBeNull();
    expect(screen.queryByTestId("gpu-source")).toBeNull();
  });
});
