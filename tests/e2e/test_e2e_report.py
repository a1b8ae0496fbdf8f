"""The quality report written by `vtm report --out report.html`, opened in Chromium from a
file:// URL with every http(s) request aborted: the charts and numbers must render offline.

With ``VTM_SCREENSHOTS=1`` it writes docs/screenshots/report.png:

    VTM_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_e2e_report.py -k sqlite
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from report_scenario import seed
from support import TESTS, Server
from vtm.store import RunRepository, create_db_engine

SHOTS = TESTS.parent / "docs" / "screenshots"
WRITE = os.environ.get("VTM_SCREENSHOTS") == "1"

# Every <use> of an SVG glyph must point at a definition in the page, and every chart must
# be a real SVG element with drawn paths and a size.
_CHARTS = """() => [...document.querySelectorAll("figure svg")].map((svg) => {
  const uses = [...svg.querySelectorAll("use")];
  const href = (u) => (u.getAttribute("xlink:href") || u.getAttribute("href") || "").slice(1);
  const box = svg.getBoundingClientRect();
  return {
    svgNamespace: svg.namespaceURI === "http://www.w3.org/2000/svg",
    paths: svg.querySelectorAll("path").length,
    unresolved: uses.filter((u) => !document.getElementById(href(u))).length,
    glyphs: uses.length,
    width: box.width,
    height: box.height,
  };
})"""


def write_report(server: Server, database_url: str, out: Path) -> dict[str, str]:
    engine = create_db_engine(database_url)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ids = seed(RunRepository(engine), today - timedelta(days=5))
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    env["VTM_URL"] = server.url
    done = subprocess.run(
        [sys.executable, "-m", "vtm", "report", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return ids


def test_the_report_renders_offline_with_its_charts(
    page: Page, server: Server, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    ids = write_report(server, database_url, out)

    requested: list[str] = []

    def refuse(route: Route) -> None:
        requested.append(route.request.url)
        route.abort()

    page.context.route(re.compile(r"^https?://"), refuse)
    page.goto(out.as_uri())

    expect(page.get_by_test_id("summary-runs-value")).to_have_text("16")
    expect(page.get_by_test_id("summary-success-rate-value")).to_have_text("58.3%")  # 7 / 12
    expect(page.get_by_test_id("summary-mttr-value")).to_have_text("1 h 50 min")  # 110 min
    expect(page.get_by_test_id("summary-open-incidents-value")).to_have_text("1")
    expect(page.get_by_test_id("summary-manual-value")).to_have_text("6")

    scripted = page.get_by_test_id("task-scripted")
    expect(scripted.get_by_test_id("fact-success-rate")).to_have_text("60.0%")
    expect(scripted.get_by_test_id("fact-p95")).to_have_text("1 h 15 min")
    expect(scripted.get_by_test_id("metric-best")).to_have_text("0.93")
    expect(scripted.get_by_test_id("metric-latest")).to_have_text("0.91")
    expect(scripted.get_by_test_id("incidents-scripted").locator("tbody tr")).to_have_count(3)
    expect(scripted.get_by_test_id("failures-scripted")).to_contain_text(ids["a9"])
    noisy = page.get_by_test_id("task-noisy")
    expect(noisy.get_by_test_id("incidents-noisy")).to_contain_text("open")

    expect(page.locator("figure svg")).to_have_count(3)
    charts = page.evaluate(_CHARTS)
    for chart in charts:
        assert chart["svgNamespace"], chart
        assert chart["paths"] > 10, chart  # bars or line, axes, ticks
        assert chart["glyphs"] > 0 and chart["unresolved"] == 0, chart  # text drawn as glyphs
        assert chart["width"] > 400 and chart["height"] > 100, chart
    for figure in ("chart-outcomes", "chart-metric"):
        expect(page.get_by_test_id(figure).first).to_be_visible()

    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] if page.viewport_size else True
    assert requested == [], f"the report asked the network for {requested}"

    if WRITE:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "report.png", full_page=True, animations="disabled")
