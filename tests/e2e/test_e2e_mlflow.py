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
from playwright.sync_api import Page, expect

from mlflow_scenario import EXPERIMENT, NOTE, REGISTERED, Scenario, running_scenario
from support import TESTS

SHOTS = TESTS.parent / "docs" / "screenshots"
WRITE = os.environ.get("VTM_SCREENSHOTS") == "1"
TOKEN = "e2e-s3cret"


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
    artifacts.get_by_test_id("artifact-dir-notes").click()
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
    settle(page)
    shoot(page, "mlflow-run")

    page.get_by_test_id("mlflow-tab-models").click()
    registered = page.get_by_test_id(f"registered-model-{REGISTERED}")
    expect(registered.get_by_test_id("model-alias-champion")).to_have_text("@champion → v1")
    expect(registered.get_by_test_id(f"model-version-{REGISTERED}-2")).to_contain_text(
        "@challenger"
    )


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

    page.goto(f"{scenario.server.url}/runs/{scenario.vtm_unlinked}")
    page.get_by_test_id("run-link-mlflow").click()
    expect(page.get_by_test_id("mlflow-no-linked-run")).to_contain_text("has no MLflow run")
