"""The pictures in docs/screenshots/, taken from the sample catalog with real runs.

Two finished digits-cnn runs (different learning rates), a stopped and a running
plain-argparse run. Every page is checked to render whether or not pictures are written;
they are written (over the tracked files) only with ``VTM_SCREENSHOTS=1``:

    VTM_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_screenshots.py -k sqlite
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    DEADLINE_MS,
    DESKTOP,
    TRACK_FETCHES,
    expect_progress,
    open_app,
    run_row,
    settle,
)
from playwright.sync_api import Browser, Page, ViewportSize, expect

from support import TESTS, Server

REPO = TESTS.parent
SAMPLE_CATALOG = REPO / "examples" / "training_catalog.yaml"
SHOTS = REPO / "docs" / "screenshots"
WRITE = os.environ.get("VTM_SCREENSHOTS") == "1"
PHONE: ViewportSize = {"width": 390, "height": 844}
_BOXES = "bars => bars.map((bar) => bar.getBoundingClientRect().toJSON())"


@pytest.fixture
def sample_server(vtm_home: Path, database_url: str) -> Iterator[Server]:
    server = Server(vtm_home, database_url, catalog=SAMPLE_CATALOG).start()
    yield server
    server.stop()
    server.client.close()


def new_page(
    browser: Browser, errors: list[str], dark: bool = False, viewport: ViewportSize = DESKTOP
) -> Page:
    """A page in a fresh context; uncaught exceptions in it are added to ``errors``."""
    context = browser.new_context(
        viewport=viewport,
        color_scheme="dark" if dark else "light",
        device_scale_factor=1,
    )
    context.set_default_timeout(DEADLINE_MS)
    context.add_init_script(script=TRACK_FETCHES)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    return page


def shoot(page: Page, name: str, full_page: bool = True) -> None:
    if WRITE:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{name}.png", full_page=full_page, animations="disabled")


def start_sample_runs(server: Server) -> dict[str, dict[str, Any]]:
    runs = {
        "fast": server.start_run("digits-cnn", epochs=4, lr=0.003, device="cpu", seed=1),
        "slow": server.start_run("digits-cnn", epochs=4, lr=0.0003, device="cpu", seed=1),
        "stopped": server.start_run("plain-argparse", epochs=50, sleep=0.2, lr=0.01),
    }
    server.wait_epoch(runs["stopped"]["id"], 2, timeout=60)
    assert server.client.post(f"/api/runs/{runs['stopped']['id']}/stop").status_code == 200
    for key in ("fast", "slow", "stopped"):
        runs[key] = server.wait_status(runs[key]["id"], timeout=120)
    assert runs["fast"]["status"] == runs["slow"]["status"] == "completed"
    runs["running"] = server.start_run("plain-argparse", epochs=300, sleep=0.5, lr=0.003)
    server.wait_epoch(runs["running"]["id"], 3, timeout=60)
    return runs


@pytest.mark.slow
def test_screenshots_of_every_page(browser: Browser, sample_server: Server) -> None:
    server = sample_server
    runs = start_sample_runs(server)
    running, fast, slow = runs["running"]["id"], runs["fast"]["id"], runs["slow"]["id"]

    errors: list[str] = []
    page = new_page(browser, errors)
    open_app(page, server)
    expect(run_row(page.get_by_test_id("active-runs"), running)).to_be_visible()
    expect(run_row(page.get_by_test_id("recent-runs"), fast)).to_be_visible()
    expect(page.get_by_test_id(f"progress-text-{running}")).to_contain_text("ETA")
    # Every bar's track is as wide as the next, whatever its label says ("… · ETA 2m 30s",
    # "4 / 4 · 100%").
    widths = {b["width"] for b in page.get_by_role("progressbar").evaluate_all(_BOXES)}
    assert len(widths) == 1, f"progress tracks of different widths: {widths}"
    shoot(page, "live")

    open_app(page, server, "/launch/digits-cnn")
    expect(page.get_by_test_id("launch-form")).to_be_visible()
    expect(page.get_by_test_id("field-lr")).to_have_value("0.001")
    shoot(page, "launch")

    open_app(page, server, f"/runs/{fast}")
    expect_progress(page, fast, 4, 4)
    for metric in ("val_accuracy", "val_loss", "train_loss"):
        expect(page.get_by_test_id(f"metric-chart-{metric}").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("log-line").filter(has_text="done: val_accuracy")).to_be_visible()
    shoot(page, "run")
    for run_id in (fast, slow):  # a learning rate of 0.003, of 0.0003
        open_app(page, server, f"/runs/{run_id}")
        ticks = page.get_by_test_id("metric-chart-lr").locator(".chart-canvas")
        expect(ticks).to_have_attribute("data-y-ticks", re.compile(r"\d"))
        labels = (ticks.get_attribute("data-y-ticks") or "").split("|")
        assert len(labels) >= 2 and len(set(labels)) == len(labels), labels

    open_app(page, server, "/history")
    page.get_by_test_id(f"compare-{fast}").check()
    page.get_by_test_id(f"compare-{slow}").check()
    expect(page.get_by_test_id("compare-field-lr")).to_have_attribute("data-differs", "true")
    for metric in ("val_accuracy", "lr"):
        chart = page.get_by_test_id(f"compare-chart-{metric}")
        expect(chart.locator("canvas")).to_have_count(1)
    page.get_by_test_id("history-columns").locator("summary").click()
    page.get_by_test_id("history-column-lr").check()
    page.get_by_test_id("history-columns").locator("summary").click()
    settle(page)
    shoot(page, "history-compare")

    # The sample pipelines without Airflow: schedules in words with their next run, and no
    # "Latest DAG runs" over nothing.
    open_app(page, server, "/pipelines")
    expect(page.get_by_test_id("airflow-status")).to_have_attribute("data-state", "unconfigured")
    expect(page.get_by_test_id("airflow-status").locator("code")).to_have_count(4)
    expect(page.get_by_test_id("airflow-status")).not_to_contain_text("`")
    nightly = page.get_by_test_id("pipeline-digits-nightly")
    expect(nightly.get_by_test_id("pipeline-schedule-digits-nightly")).to_have_text(
        "At 02:00, UTC (0 2 * * *)"
    )
    expect(nightly.get_by_test_id("pipeline-next-run-digits-nightly")).to_have_text(
        re.compile(r"\b20\d\d\b")
    )
    expect(page.get_by_text("Latest DAG runs")).to_have_count(0)
    # Markdown's backticks become code, not literal text.
    open_app(page, server, "/mlflow/models")
    expect(page.get_by_test_id("mlflow-no-models").locator("code")).to_have_text("vtm publish")
    expect(page.get_by_test_id("mlflow-no-models")).not_to_contain_text("`")
    page.context.close()

    phone = new_page(browser, errors, viewport=PHONE)
    open_app(phone, server)
    expect(run_row(phone, running)).to_be_visible()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the live page scrolls sideways on a phone ({width} px)"
    shoot(phone, "live-phone", full_page=False)
    phone.context.close()

    dark = new_page(browser, errors, dark=True)
    open_app(dark, server, f"/runs/{fast}")
    expect(dark.get_by_test_id("metric-chart-val_accuracy").locator("canvas")).to_have_count(1)
    background = dark.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)", "dark mode kept a white page"
    shoot(dark, "run-dark")
    dark.context.close()
    assert not errors, f"uncaught errors in the pages: {errors}"
