import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { Route, Routes, useLocation } from "react-router";
import type { RunRecord } from "../api/types";
import { json, makeField, makeRun, makeTask, mockFetch, renderWithProviders } from "../test/fixtures";
import { HistoryPage } from "./HistoryPage";

const task = makeTask({
  fields: [
    makeField({ name: "epochs", type: "int", default: 5 }),
    makeField({ name: "lr", type: "float", default: 0.001 }),
  ],
});
const catalog = { status: "ok", path: "c.yaml", loadedAt: null, error: null, tasks: [task] };
const runs: RunRecord[] = Array.from({ length: 6 }, (_, i) =>
  makeRun({
    id: `20261126-12000${i}-aaaaaa`,
    status: "completed",
    createdAt: `2026-11-26T12:00:0${i}Z`,
    fields: { epochs: 5, lr: i === 0 ? 0.5 : 0.05 },
    progress: { val_accuracy: 0.5 + i / 10 },
  }),
);

function serve() {
  const listed: URLSearchParams[] = [];
  mockFetch((request) => {
    const url = new URL(request.url);
    if (url.pathname === "/api/catalog") return json(catalog);
    if (url.pathname === "/api/runs") {
      listed.push(url.searchParams);
      // Two pages: the first three runs, then (cursor "p2") the rest.
      const second = url.searchParams.get("cursor") === "p2";
      return json({ runs: second ? runs.slice(3) : runs.slice(0, 3), nextCursor: second ? null : "p2" });
    }
    const [, , , id, what] = url.pathname.split("/");
    const run = runs.find((r) => r.id === id);
    if (!run) return json({ error: { code: "not_found", message: "no such run", fields: [] } }, 404);
    if (what !== "metrics") return json(run);
    const point = (value: number) => [{ step: 1, value, time: "2026-11-26T12:00:00Z" }];
    return json({
      runId: id,
      series: {
        epoch: point(1),
        val_accuracy: point(Number(run.progress.val_accuracy)),
        train_loss: point(0.3),
        // Only the first run reports its learning rate.
        ...(run === runs[0] ? { lr: point(0.5) } : {}),
      },
    });
  });
  return listed;
}

function Where() {
  const location = useLocation();
  return <output data-testid="where">{decodeURIComponent(location.search)}</output>;
}

function renderPage(route = "/history") {
  return renderWithProviders(
    <>
      <Routes>
        <Route path="/history" element={<HistoryPage />} />
      </Routes>
      <Where />
    </>,
    { route },
  );
}

describe("History page", () => {
  it("asks the server for one page at a time, with the filters from the address", async () => {
    const listed = serve();
    renderPage("/history?task=digits-cnn&status=failed,stopped&from=2026-11-01&to=2026-11-26");
    await screen.findByTestId(`run-row-${runs[0]!.id}`);
    const params = listed[0]!;
    expect(params.get("taskId")).toBe("digits-cnn");
    expect(params.getAll("status")).toEqual(["failed", "stopped"]);
    expect(params.get("limit")).toBe("50");
    expect(new Date(params.get("createdAfter")!).getDate()).toBe(1);
    expect(new Date(params.get("createdBefore")!).getDate()).toBe(27); // "to" is inclusive
    expect(screen.getByTestId("history-filter-status-failed")).toBeChecked();

    const user = userEvent.setup();
    await user.click(screen.getByTestId("page-older"));
    await screen.findByTestId(`run-row-${runs[3]!.id}`);
    expect(listed.at(-1)!.get("cursor")).toBe("p2");
    expect(screen.getByTestId("page-number")).toHaveTextContent("Page 2");
    expect(screen.getByTestId("page-older")).toBeDisabled();
    await user.click(screen.getByTestId("page-newer"));
    await screen.findByTestId(`run-row-${runs[0]!.id}`);
    expect(screen.getByTestId("page-number")).toHaveTextContent("Page 1");
  });

  it("compares runs: fields side by side, differences marked, a chart per shared metric", async () => {
    serve();
    const user = userEvent.setup();
    renderPage();
    await screen.findByTestId(`run-row-${runs[0]!.id}`);
    await user.click(screen.getByTestId(`compare-${runs[0]!.id}`));
    expect(screen.getByTestId("compare-panel")).toHaveTextContent("Pick one to three more runs");
    await user.click(screen.getByTestId(`compare-${runs[1]!.id}`));
    expect(screen.getByTestId("where")).toHaveTextContent(`compare=${runs[0]!.id},${runs[1]!.id}`);

    const lr = await screen.findByTestId("compare-field-lr");
    expect(lr).toHaveAttribute("data-differs", "true");
    expect(lr).toHaveClass("differs");
    expect(
      within(lr)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    ).toEqual(["0.5", "0.05"]);
    expect(screen.getByTestId("compare-field-epochs")).toHaveAttribute("data-differs", "false");
    expect(screen.getByTestId("compare-summary")).toHaveTextContent("1 of 2 fields differ");
    // Every metric both runs reported has its chart, the primary first; lr only one of them.
    const charts = await screen.findAllByTestId(/^compare-chart-/);
    expect(charts.map((c) => c.dataset.testid)).toEqual([
      "compare-chart-val_accuracy",
      "compare-chart-train_loss",
    ]);
    expect(screen.getByTestId("compare-partial")).toHaveTextContent("lr");
    expect(within(screen.getByTestId("compare-metric-row-val_accuracy")).getAllByRole("cell")).toHaveLength(
      2,
    );

    await user.click(screen.getByTestId(`compare-${runs[2]!.id}`));
    // The selection survives paging, so a fourth can come from the next page.
    await user.click(screen.getByTestId("page-older"));
    await user.click(await screen.findByTestId(`compare-${runs[3]!.id}`));
    expect(screen.getByTestId(`compare-${runs[4]!.id}`)).toBeDisabled();
    expect(screen.getByRole("heading", { name: "Compare 4 runs" })).toBeInTheDocument();
    expect(screen.getByTestId("where")).toHaveTextContent("cursor=p2");
    expect(screen.getByTestId("where")).toHaveTextContent(
      `compare=${runs
        .slice(0, 4)
        .map((r) => r.id)
        .join(",")}`,
    );
  });

  it("opens a comparison from its address, runs on no page shown included", async () => {
    serve();
    renderPage(`/history?compare=${runs[0]!.id},${runs[4]!.id}`);
    expect(await screen.findByRole("heading", { name: "Compare 2 runs" })).toBeInTheDocument();
    expect(await screen.findByTestId("compare-field-lr")).toHaveAttribute("data-differs", "true");
    expect(await screen.findByTestId(`compare-${runs[0]!.id}`)).toBeChecked();
    await userEvent.setup().click(screen.getByTestId("compare-clear"));
    expect(screen.queryByTestId("compare-panel")).toBeNull();
    expect(screen.getByTestId("where")).not.toHaveTextContent("compare");
  });

  it("shows the fields picked as columns, and keeps the choice in the address", async () => {
    serve();
    const user = userEvent.setup();
    renderPage();
    const row = await screen.findByTestId(`run-row-${runs[0]!.id}`);
    expect(within(row).queryByTestId("history-field-lr")).toBeNull();
    await user.click(within(screen.getByTestId("history-columns")).getByText("Field columns"));
    await user.click(screen.getByTestId("history-column-lr"));
    expect(within(row).getByTestId("history-field-lr")).toHaveTextContent("0.5");
    expect(screen.getByTestId("history-field-head-lr")).toHaveTextContent("lr");
    expect(screen.getByTestId("where")).toHaveTextContent("fields=lr");
    // Paging keeps the columns.
    await user.click(screen.getByTestId("page-older"));
    const later = await screen.findByTestId(`run-row-${runs[3]!.id}`);
    expect(within(later).getByTestId("history-field-lr")).toHaveTextContent("0.05");
    expect(screen.getByTestId("where")).toHaveTextContent("fields=lr");
  });

  it("starts with the columns its address names", async () => {
    serve();
    renderPage("/history?fields=epochs,lr");
    const row = await screen.findByTestId(`run-row-${runs[1]!.id}`);
    expect(within(row).getByTestId("history-field-epochs")).toHaveTextContent("5");
    expect(within(row).getByTestId("history-field-lr")).toHaveTextContent("0.05");
    expect(screen.getByTestId("history-column-lr")).toBeChecked();
  });
});
