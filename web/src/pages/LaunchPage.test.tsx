import { screen } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { json, makeRun, makeTask, mockFetch, renderWithProviders } from "../test/fixtures";
import { LaunchPage } from "./LaunchPage";

const earlier = makeRun({ id: "20261126-110000-cccccc", fields: { epochs: 77 } });

function serve(catalog: object) {
  mockFetch((request) => {
    const url = new URL(request.url);
    if (url.pathname === "/api/catalog") return json(catalog);
    if (url.pathname === `/api/runs/${earlier.id}`) return json(earlier);
    return json({ error: { code: "not_found", message: "no", fields: [] } }, 404);
  });
}

function renderAt(route: string) {
  renderWithProviders(
    <Routes>
      <Route path="/launch" element={<LaunchPage />} />
      <Route path="/launch/:taskId" element={<LaunchPage />} />
    </Routes>,
    { route },
  );
}

describe("Launch page", () => {
  it("shows a catalog load error with its file, line and key, and keeps the last good tasks", async () => {
    serve({
      status: "error",
      path: "/srv/catalog.yaml",
      loadedAt: "2026-11-26T10:00:00Z",
      error: {
        message: "min is greater than max",
        file: "/srv/catalog.yaml",
        line: 12,
        key: "tasks.digits-cnn.extraFields.x",
      },
      tasks: [makeTask()],
    });
    renderAt("/launch");
    const banner = await screen.findByTestId("catalog-error");
    expect(banner).toHaveTextContent("/srv/catalog.yaml:12");
    expect(banner).toHaveTextContent("tasks.digits-cnn.extraFields.x");
    expect(banner).toHaveTextContent("min is greater than max");
    expect(banner).toHaveTextContent("last good catalog is still in use");
    expect(screen.getByTestId("task-digits-cnn")).toBeInTheDocument();
  });

  it("re-runs with changes: the form opens filled from the earlier run", async () => {
    serve({ status: "ok", path: "c.yaml", loadedAt: null, error: null, tasks: [makeTask()] });
    renderAt(`/launch/digits-cnn?from=${earlier.id}`);
    expect(await screen.findByTestId("rerun-note")).toHaveTextContent(earlier.id);
    expect(screen.getByTestId("field-epochs")).toHaveValue(77);
  });
});
