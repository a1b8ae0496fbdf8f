"""The MLflow page in a real browser, over a real MLflow store (tests/mlflow_scenario.py).

Experiment → runs table → compare (differing params, overlaid chart) → run view (history
chart, artifact download through VTM, logged model files) → registered models; and the VTM run
page's link to its MLflow run. With ``VTM_SCREENSHOTS=1`` it also writes
docs/screenshots/mlflow.png (a comparison) and mlflow-run.png (a run):

    VTM_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_e2e_mlflow.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import open_app, settle
from playwright.sync_api import Page, ViewportSize, expect

from mlflow_scenario import EXPERIMENT, NOTE, REGISTERED, Scenario, running_scenario
from support import TESTS

SHOTS = TESTS.parent / "docs" / "screenshots"
WRITE = os.environ.get("VTM_SCREENSHOTS") == "1"
TOKEN = "e2e-s3cret"
PHONE: ViewportSize = {"width": 390, "height": 844}
# The UI's one date-and-time format (web/src/lib/format.ts), as this browser writes it.
_FORMAT_DATE_TIME = """iso => new Intl.DateTimeFormat(undefined, { dateStyle: "medium",
  timeStyle: "short" }).format(new Date(iso))"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    # With a token: the page must send it on every MLflow call and on the download.
    home = tmp_path_factory.mktemp("mlflow-e2e") / "home"
    with running_scenario(home, VTM_TOKEN=TOKEN) as found:
        yield found


def shoot(page: Page, name: str) -> None:
    if WRITE:
        SHOTS.mkdir(parents=True, exist_ok=True)
        # From the top: a page scrolled by earlier clicks draws its sticky header mid-picture.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SHOTS / f"{name}.png", full_page=True, animations="disabled")


def open_with_token(page: Page, scenario: Scenario, path: str = "/") -> None:
    # The UI keeps a token given once as ?token= (and drops it from the address).
    open_app(page, scenario.server, f"{path}{'&' if '?' in path else '?'}token={TOKEN}")


def test_experiment_runs_compare_run_view_download_and_models(
    page: Page, scenario: Scenario, tmp_path: Path
) -> None:
    open_with_token(page, scenario)
    page.get_by_test_id("nav-mlflow").click()
    expect(page.get_by_test_id("mlflow-status")).to_have_attribute("data-reachable", "true")
    # "Last update" is the newest run's (lower-lr's) end, in the page's one date format.
    lower = scenario.server.client.get(f"/api/mlflow/runs/{scenario.lower_lr}").json()["run"]
    expect(page.get_by_test_id(f"experiment-last-update-{scenario.experiment_id}")).to_have_text(
        page.evaluate(_FORMAT_DATE_TIME, lower["endTime"])
    )
    page.get_by_test_id(f"experiment-link-{scenario.experiment_id}").click()
    expect(page.get_by_test_id("mlflow-experiment-name")).to_have_text(EXPERIMENT)

    table = page.get_by_test_id("mlflow-runs-table")
    expect(table.get_by_test_id(f"mlflow-run-row-{scenario.baseline}")).to_be_visible()
    expect(page.get_by_test_id(f"mlflow-metric-{scenario.baseline}-val/accuracy")).to_have_text(
        "0.75"
    )
    page.get_by_test_id(f"mlflow-compare-{scenario.baseline}").check()
    page.get_by_test_id(f"mlflow-compare-{scenario.lower_lr}").check()
    compare = page.get_by_test_id("mlflow-compare")
    expect(compare.get_by_role("heading")).to_have_text("Compare 2 runs")
    expect(page.get_by_test_id("mlflow-compare-param-lr")).to_have_attribute("data-differs", "true")
    expect(page.get_by_test_id("mlflow-compare-param-epochs")).to_have_attribute(
        "data-differs", "false"
    )
    page.get_by_test_id("mlflow-compare-metric").select_option("val/accuracy")
    chart = page.get_by_test_id("mlflow-compare-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    legend = chart.locator(".u-legend")
    expect(legend).to_contain_text("baseline")
    expect(legend).to_contain_text("lower-lr")
    settle(page)
    shoot(page, "mlflow")

    page.get_by_test_id(f"mlflow-run-link-{scenario.baseline}").click()
    expect(page.get_by_test_id("mlflow-run-name")).to_have_text("baseline")
    history = page.get_by_test_id("mlflow-metric-chart-val/accuracy")
    expect(history.locator("canvas")).to_have_count(1)
    box = history.locator("canvas").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100, box
    expect(page.get_by_test_id("mlflow-params")).to_contain_text("0.01")

    artifacts = page.get_by_test_id("run-artifacts")
    folder = artifacts.get_by_test_id("artifact-dir-notes")
    # The folder's icon is the UI's own drawing, not an emoji this Chromium has no glyph for.
    expect(folder).to_have_text("notes/")
    icon = folder.locator("svg").bounding_box()
    assert icon is not None and icon["width"] >= 10 and icon["height"] >= 10, icon
    folder.click()
    link = artifacts.get_by_test_id("artifact-file-notes/summary.txt")
    with page.expect_download() as caught:
        link.click()
    download = caught.value
    assert download.suggested_filename == "summary.txt"
    saved = tmp_path / "summary.txt"
    download.save_as(saved)
    assert saved.read_text() == NOTE

    model = page.get_by_test_id(f"logged-model-{scenario.model_id}")
    with page.expect_download() as caught:
        model.get_by_test_id("artifact-file-MLmodel").click()
    saved = tmp_path / "MLmodel"
    caught.value.save_as(saved)
    assert f"model_id: {scenario.model_id}" in saved.read_text()
    artifacts.get_by_test_id("artifact-crumb-").click()  # back at the top: a folder and a file
    expect(artifacts.get_by_test_id("artifact-file-top.txt")).to_be_visible()
    settle(page)
    shoot(page, "mlflow-run")

    page.get_by_test_id("mlflow-tab-models").click()
    registered = page.get_by_test_id(f"registered-model-{REGISTERED}")
    expect(registered.get_by_test_id("model-alias-champion")).to_have_text("@champion → v1")
    expect(registered.get_by_test_id(f"model-version-{REGISTERED}-2")).to_contain_text(
        "@challenger"
    )

    # On a phone, a run's status and the leading metric are on screen without scrolling.
    page.set_viewport_size(PHONE)
    page.goto(f"{scenario.server.url}/mlflow/experiments/{scenario.experiment_id}")
    row = page.get_by_test_id(f"mlflow-run-row-{scenario.baseline}")
    expect(page.get_by_test_id("mlflow-primary-metric")).to_have_text("loss")
    for cell in (
        row.get_by_test_id("mlflow-run-status"),
        row.get_by_test_id(f"mlflow-metric-{scenario.baseline}-loss"),
    ):
        expect(cell).to_be_visible()
        where = cell.bounding_box()
        assert where is not None and where["x"] >= 0, where
        assert where["x"] + where["width"] <= PHONE["width"], where
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the MLflow page scrolls sideways on a phone ({width} px)"


def test_a_vtm_run_links_its_mlflow_run(page: Page, scenario: Scenario) -> None:
    # Reported by the trainer: a direct link.
    open_with_token(page, scenario, f"/runs/{scenario.vtm_stored}")
    link = page.get_by_test_id("run-link-mlflow")
    expect(link).to_have_attribute("href", f"/mlflow/runs/{scenario.baseline}")
    link.click()
    expect(page.get_by_test_id("mlflow-run-id")).to_have_text(scenario.baseline)

    # Only tagged: found through the server, then shown.
    page.goto(f"{scenario.server.url}/runs/{scenario.vtm_tagged}")
    page.get_by_test_id("run-link-mlflow").click()
    expect(page.get_by_test_id("mlflow-run-id")).to_have_text(scenario.lower_lr)
    assert page.url.endswith(f"/mlflow/runs/{scenario.lower_lr}")

    # Of a task that uses MLflow but never linked: looked up, and "none" is an answer, not an
    # error in the browser's console.
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{scenario.server.url}/runs/{scenario.vtm_unlinked}")
    expect(page.get_by_test_id("run-link-mlflow")).to_have_text("Find MLflow run")
    page.get_by_test_id("run-link-mlflow").click()
    expect(page.get_by_test_id("mlflow-no-linked-run")).to_contain_text("has no MLflow run")
    settle(page)
    assert console_errors == []
