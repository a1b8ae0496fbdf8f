"""The history page in a real browser: comparing two finished runs on one chart."""

from __future__ import annotations

from e2e_support import open_app, run_row
from playwright.sync_api import Page, expect

from support import Server

# Pixels of the chart's canvas drawn in each series' colour (uPlot strokes series i with the
# page's --chart-<i+1>; axes and grid use other colours).
_COUNT_SERIES_PIXELS = """figure => {
  const canvas = figure.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const probe = document.createElement("span");
  document.body.append(probe);
  const counts = [1, 2].map((i) => {
    probe.style.color = `var(--chart-${i})`;
    const [r, g, b] = getComputedStyle(probe).color.match(/[0-9.]+/g).map(Number);
    let n = 0;
    for (let p = 0; p < data.length; p += 4) {
      const d = Math.abs(data[p] - r) + Math.abs(data[p + 1] - g) + Math.abs(data[p + 2] - b);
      if (data[p + 3] > 200 && d < 24) n += 1;
    }
    return n;
  });
  probe.remove();
  return counts;
}"""


def test_two_finished_runs_are_drawn_on_one_compare_chart(page: Page, server: Server) -> None:
    # val_accuracy = epoch / epochs: two different curves.
    first = server.start_run(epochs=3, lr=0.5)
    second = server.start_run(epochs=6, lr=0.05)
    for run in (first, second):
        assert server.wait_status(run["id"])["status"] == "completed"
    open_app(page, server, "/history")
    table = page.get_by_test_id("history-table")
    for run in (first, second):
        expect(run_row(table, run["id"]).get_by_test_id("run-status")).to_have_text("completed")

    page.get_by_test_id(f"compare-{first['id']}").check()
    panel = page.get_by_test_id("compare-panel")
    expect(panel).to_contain_text("Pick one to three more runs")
    page.get_by_test_id(f"compare-{second['id']}").check()
    expect(panel.get_by_role("heading")).to_have_text("Compare 2 runs")
    expect(page.get_by_test_id("compare-metric")).to_have_value("val_accuracy")

    chart = page.get_by_test_id("compare-chart")
    expect(chart.locator("figcaption")).to_have_text("val_accuracy")
    canvas = chart.locator("canvas")
    expect(canvas).to_have_count(1)
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100, box
    legend = chart.locator(".u-legend")
    for run in (first, second):
        expect(legend).to_contain_text(f"{run['id']} · Scripted trainer")
    # Both curves are on the canvas, each in its own colour.
    pixels = chart.evaluate(_COUNT_SERIES_PIXELS)
    assert min(pixels) > 50, f"pixels in each series' colour: {pixels}"
