import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { Route, Routes } from "react-router";
import type { RunRecord } from "../api/types";
import { json, makeRun, makeTask, mockFetch, renderWithProviders } from "../test/fixtures";
import { HistoryPage } from "./HistoryPage";

const catalog = { status: "ok", path: "c.yaml", loadedAt: null, error: null, tasks: [makeTask()] };
const runs: RunRecord[] = Array.from({ length: 6 }, (_, i) =>
  makeRun({ id: `20261126-12000${i}-aaaaaa`, status: "completed", createdAt: `2026-11-26T12:00:0${i}Z` }),
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
    const id = url.pathname.split("/")[3];
    return json({
      runId: id,
      series: { val_accuracy: [{ step: 1, value: 0.5, time: "2026-11-26T12:00:00Z" }] },
    });
  });
  return listed;
}

function renderPage(route = "/history") {
  return renderWithProviders(
    <Routes>
      <Route path="/history" element={<HistoryPage />} />
    </Routes>,
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

  it("compares two to four runs on one chart", async () => {
    serve();
    const user = userEvent.setup();
    renderPage();
    await screen.findByTestId(`run-row-${runs[0]!.id}`);
    await user.click(screen.getByTestId(`compare-${runs[0]!.id}`));
    expect(screen.getByTestId("compare-panel")).toHaveTextContent("Pick one to three more runs");
    await user.click(screen.getByTestId(`compare-${runs[1]!.id}`));
    await user.click(screen.getByTestId(`compare-${runs[2]!.id}`));
    // The selection survives paging, so a fourth can come from the next page.
    await user.click(screen.getByTestId("page-older"));
    await user.click(await screen.findByTestId(`compare-${runs[3]!.id}`));
    expect(screen.getByTestId(`compare-${runs[4]!.id}`)).toBeDisabled();
    const chart = await screen.findByTestId("compare-chart");
    expect(within(chart).getByText("val_accuracy")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("compare-metric")).toHaveValue("val_accuracy"));
    expect(screen.getByRole("heading", { name: "Compare 4 runs" })).toBeInTheDocument();
  });
});
