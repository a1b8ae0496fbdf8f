import { QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { beforeEach, describe, expect, it } from "vitest";
import { AppRoutes } from "../App";
import { EventStreamProvider } from "../api/EventStreamProvider";
import { RunEventStream } from "../api/events";
import type { RunRecord } from "../api/types";
import { FakeEventSource } from "../test/fakeEventSource";
import { json, makeRun, makeTask, mockFetch, testClient } from "../test/fixtures";

const catalog = { status: "ok", path: "c.yaml", loadedAt: null, error: null, tasks: [makeTask()] };
const running = makeRun({
  startedAt: new Date(Date.now() - 20_000).toISOString(),
  progress: { epoch: 2, total_epochs: 10, val_accuracy: 0.8123456, device: "cuda:0" },
});

function serve(active: RunRecord[], stopped: RunRecord) {
  const requests: string[] = [];
  const fetch = mockFetch((request) => {
    const url = new URL(request.url);
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    if (url.pathname === "/api/catalog") return json(catalog);
    if (url.pathname === "/api/config") return json({ version: "1", mlflowUiUrl: null });
    if (url.pathname.endsWith("/stop")) return json(stopped);
    if (url.pathname === "/api/runs") {
      const wantsActive = url.searchParams.getAll("status").includes("running");
      return json({ runs: wantsActive ? active : [], nextCursor: null });
    }
    return json({ error: { code: "not_found", message: "no", fields: [] } }, 404);
  });
  return { fetch, requests };
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
