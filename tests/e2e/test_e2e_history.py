"""The history page in a real browser: two finished runs compared (fields side by side, a chart
per metric), the comparison and the field columns kept in the address, and a phone's view."""

from __future__ import annotations

import re
from datetime import datetime

from e2e_support import open_app, run_row
from playwright.sync_api import Page, ViewportSize, expect

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


PHONE: ViewportSize = {"width": 390, "height": 844}


def test_two_finished_runs_compared_side_by_side_kept_in_the_address(
    page: Page, server: Server
) -> None:
    # val_accuracy = epoch / epochs: two different curves.
    first = server.start_run(epochs=3, lr=0.5)
    second = server.start_run(epochs=6, lr=0.05)
    for run in (first, second):
        assert server.wait_status(run["id"])["status"] == "completed"
    open_app(page, server, "/history")
    table = page.get_by_test_id("history-table")
    for run in (first, second):
        expect(run_row(table, run["id"]).get_by_test_id("run-status")).to_have_text("completed")
    # One date format on the page: today's runs show their date too.
    year = str(datetime.now().year)
    created = run_row(table, first["id"]).locator("td.col-secondary").first
    expect(created).to_contain_text(year)

    page.get_by_test_id(f"compare-{first['id']}").check()
    panel = page.get_by_test_id("compare-panel")
    expect(panel).to_contain_text("Pick one to three more runs")
    page.get_by_test_id(f"compare-{second['id']}").check()
    expect(panel.get_by_role("heading")).to_have_text("Compare 2 runs")
    expect(page).to_have_url(re.compile(f"compare={first['id']}%2C{second['id']}"))

    # The fields side by side, the differing ones marked.
    for name in ("epochs", "lr"):
        expect(panel.get_by_test_id(f"compare-field-{name}")).to_have_attribute(
            "data-differs", "true"
        )
    expect(panel.get_by_test_id("compare-field-mode")).to_have_attribute("data-differs", "false")
    expect(panel.get_by_test_id("compare-field-lr")).to_contain_text("0.05")
    expect(panel.get_by_test_id("compare-summary")).to_have_text(
        re.compile(r"^2 of \d+ fields differ")
    )

    chart = page.get_by_test_id("compare-chart-val_accuracy")
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

    # A field picked as a column; the address keeps it and the comparison.
    page.get_by_test_id("history-columns").locator("summary").click()
    page.get_by_test_id("history-column-lr").check()
    expect(run_row(table, first["id"]).get_by_test_id("history-field-lr")).to_have_text("0.5")
    expect(page).to_have_url(re.compile("fields=lr"))
    page.reload()
    expect(page.get_by_test_id("compare-panel").get_by_role("heading")).to_have_text(
        "Compare 2 runs"
    )
    expect(page.get_by_test_id(f"compare-{second['id']}")).to_be_checked()
    expect(run_row(table, second["id"]).get_by_test_id("history-field-lr")).to_have_text("0.05")

    # On a phone the status and the primary metric are on screen without scrolling sideways.
    page.set_viewport_size(PHONE)
    row = run_row(table, second["id"])
    for cell in (row.get_by_test_id("run-status"), row.get_by_test_id("history-metric")):
        expect(cell).to_be_visible()
        where = cell.bounding_box()
        assert where is not None and where["x"] >= 0, where
        assert where["x"] + where["width"] <= PHONE["width"], where
    expect(row.locator("td.col-secondary").first).to_be_hidden()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the history page scrolls sideways on a phone ({width} px)"
