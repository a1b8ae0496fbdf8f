"""VTM with a real Airflow 3: `airflow standalone` (from .venv-airflow) runs the catalog's
pipelines as DAGs against a live `vtm serve`, and VTM reads the DAG runs back.

One standalone for the module (20 to 80 s to start, ≈ 1.1 GB), started with `make airflow`
(a home, port, catalog and VTM URL of its own): it loads the DAG file of `make airflow` over a
test catalog whose pipelines use the scripted test trainer, and holds a ``vtm_default``
connection to the server, which is configured to read this Airflow (``VTM_AIRFLOW_URL`` /
``USERNAME`` / ``PASSWORD``). DAG runs are triggered through Airflow's REST API, as a person or
another system would. The browser check of the Pipelines page is here too, so that it needs no
second Airflow; the last test stops make with SIGTERM and finds no process of it left.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from vtm_testkit import chromium

from airflow_support import (
    COMPONENTS,
    FAILING,
    GATED,
    PIPELINE,
    SCHEDULED,
    STOP_BOUND,
    AirflowStandalone,
    airflow_missing,
    vtm_reading,
    write_catalog,
)
from support import TESTS, Server, free_port, kill_everything_of, wait_for

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(900)]

LOGICAL_DATE = "2026-11-20T00:00:00Z"
SHOTS = TESTS.parent / "docs" / "screenshots"


@dataclass
class Setup:
    airflow: AirflowStandalone
    vtm: Server

    def vtm_runs_of(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """VTM's runs started by this DAG run, oldest first."""
        runs = self.vtm.client.get("/api/runs", params={"limit": 200}).json()["runs"]
        mine = [
            r
            for r in runs
            if (r["origin"].get("airflow") or {}).get("dagId") == dag_id
            and r["origin"]["airflow"]["runId"] == run_id
        ]
        return sorted(mine, key=lambda r: r["createdAt"])

    def status(self) -> dict[str, Any]:
        r = self.vtm.client.get("/api/pipelines/status")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert body["configured"] is True and body["error"] is None, body
        return body


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    if (why := airflow_missing()) is not None:
        pytest.fail(why)
    root = tmp_path_factory.mktemp("airflow")
    catalog = write_catalog(root / "catalog")
    vtm_port = free_port()
    airflow = AirflowStandalone(root / "airflow-home", catalog, f"http://127.0.0.1:{vtm_port}")
    vtm: Server | None = None
    try:
        airflow.start()
        vtm = vtm_reading(airflow, root, vtm_port)
        yield Setup(airflow, vtm)
    finally:
        if vtm is not None:
            vtm.stop()
            vtm.client.close()
        # The last test stopped it; after a failure this does, and kills what is left.
        left = airflow.stop().left
        kill_everything_of(root / "vtm-home")
        assert not left, f"Airflow's processes outlived make: {left}"


def run_dag(setup: Setup, dag_id: str, run_id: str) -> dict[str, Any]:
    """Unpause (new DAGs start paused), trigger for LOGICAL_DATE, wait for the end."""
    airflow = setup.airflow
    dag = airflow.wait_dag(dag_id)
    assert dag["is_paused"] is True
    airflow.unpause(dag_id)
    airflow.trigger(dag_id, run_id, LOGICAL_DATE)
    return airflow.wait_dag_run(dag_id, run_id)


def test_a_triggered_dag_runs_vtm_tasks_retries_and_vtm_shows_it(setup: Setup) -> None:
    # Before any run: VTM sees the DAG in Airflow, with no runs yet.
    setup.airflow.wait_dag(PIPELINE)
    before = {p["pipelineId"]: p for p in setup.status()["pipelines"]}
    assert before[PIPELINE]["inAirflow"] is True
    assert before[PIPELINE]["dagRuns"] == []

    run_id = "vtm-check-1"
    dag_run = run_dag(setup, PIPELINE, run_id)
    tis = setup.airflow.task_instances(PIPELINE, run_id)
    assert dag_run["state"] == "success", {
        t: setup.airflow.task_log(PIPELINE, run_id, t, ti["try_number"]) for t, ti in tis.items()
    }
    assert {t: (ti["state"], ti["try_number"]) for t, ti in tis.items()} == {
        "prepare": ("success", 1),
        "train": ("success", 2),
    }

    prepare, train1, train2 = setup.vtm_runs_of(PIPELINE, run_id)
    assert prepare["origin"]["airflow"]["taskId"] == "prepare"
    assert prepare["status"] == "completed"
    assert prepare["fields"]["text"] == "2026-11-20"  # {{ ds }} rendered by Airflow
    assert prepare["origin"]["airflow"]["logicalDate"].startswith("2026-11-20T00:00:00")
    assert (train1["origin"]["airflow"]["tryNumber"], train1["status"]) == (1, "failed")
    assert train1["exitCode"] == 3
    assert (train2["origin"]["airflow"]["tryNumber"], train2["status"]) == (2, "completed")
    assert train2["origin"]["previousTryRunId"] == train1["id"]

    status = {p["pipelineId"]: p for p in setup.status()["pipelines"]}[PIPELINE]
    assert status["inAirflow"] is True
    [shown] = [r for r in status["dagRuns"] if r["runId"] == run_id]
    assert shown["state"] == "success"
    assert shown["logicalDate"].startswith("2026-11-20T00:00:00")
    tasks = {t["taskId"]: t for t in shown["tasks"]}
    assert (tasks["prepare"]["state"], tasks["prepare"]["vtmRunId"]) == ("success", prepare["id"])
    # The latest try's run stands for the task.
    assert (tasks["train"]["state"], tasks["train"]["tryNumber"]) == ("success", 2)
    assert tasks["train"]["vtmRunId"] == train2["id"]


def test_a_failing_step_fails_the_dag_run_and_its_downstream_never_runs(setup: Setup) -> None:
    run_id = "vtm-fails-1"
    dag_run = run_dag(setup, FAILING, run_id)
    assert dag_run["state"] == "failed"
    tis = setup.airflow.task_instances(FAILING, run_id)
    assert tis["broken"]["state"] == "failed"
    assert tis["after"]["state"] == "upstream_failed"

    [broken] = setup.vtm_runs_of(FAILING, run_id)
    assert (broken["origin"]["airflow"]["taskId"], broken["status"]) == ("broken", "failed")
    assert broken["exitCode"] == 4

    # A second DAG run, for the next day: VTM lists the newest first.
    setup.airflow.trigger(FAILING, "vtm-fails-2", "2026-11-21T00:00:00Z")
    assert setup.airflow.wait_dag_run(FAILING, "vtm-fails-2")["state"] == "failed"
    status = {p["pipelineId"]: p for p in setup.status()["pipelines"]}[FAILING]
    assert [r["runId"] for r in status["dagRuns"]] == ["vtm-fails-2", run_id]
    shown = status["dagRuns"][1]
    tasks = {t["taskId"]: t for t in shown["tasks"]}
    assert shown["state"] == "failed"
    assert (tasks["broken"]["state"], tasks["broken"]["vtmRunId"]) == ("failed", broken["id"])
    assert (tasks["after"]["state"], tasks["after"]["vtmRunId"]) == ("upstream_failed", None)


def test_unpausing_a_nightly_dag_starts_one_run_for_its_latest_time(setup: Setup) -> None:
    """What the README tells a person to do to run a scheduled pipeline once: unpause it and
    trigger nothing. Airflow starts one run, for the latest 02:00 UTC that has passed."""
    airflow = setup.airflow
    airflow.wait_dag(SCHEDULED)
    airflow.unpause(SCHEDULED)

    def runs() -> list[dict[str, Any]]:
        return list(airflow.get(f"/api/v2/dags/{SCHEDULED}/dagRuns")["dag_runs"])

    [first] = wait_for(runs, "the scheduled run that unpausing starts", timeout=120, every=0.5)
    airflow.wait_dag_run(SCHEDULED, first["dag_run_id"])
    now = datetime.now(UTC)
    latest = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if latest > now:
        latest -= timedelta(days=1)
    [run] = runs()  # still one, once it has run
    assert run["run_type"] == "scheduled"
    assert datetime.fromisoformat(run["logical_date"].replace("Z", "+00:00")) == latest
    assert run["state"] == "success"


def test_a_skipped_publish_step_says_why(setup: Setup) -> None:
    """A model below its task's floor: the publish step is skipped, the DAG run succeeds, and
    VTM reads the reason back from Airflow for the Pipelines page."""
    run_id = "vtm-gated-1"
    dag_run = run_dag(setup, GATED, run_id)
    tis = setup.airflow.task_instances(GATED, run_id)
    assert dag_run["state"] == "success", {
        t: setup.airflow.task_log(GATED, run_id, t, ti["try_number"]) for t, ti in tis.items()
    }
    assert {t: ti["state"] for t, ti in tis.items()} == {"train": "success", "publish": "skipped"}
    [train] = setup.vtm_runs_of(GATED, run_id)

    status = {p["pipelineId"]: p for p in setup.status()["pipelines"]}[GATED]
    [shown] = [r for r in status["dagRuns"] if r["runId"] == run_id]
    tasks = {t["taskId"]: t for t in shown["tasks"]}
    assert tasks["publish"]["state"] == "skipped"
    assert tasks["publish"]["note"] == (
        f"run {train['id']} has val_accuracy 0.041, below the floor 0.3 of task 'tiny-model' "
        "(publish.minMetric): not published"
    )
    assert tasks["train"]["note"] is None
    log = setup.airflow.task_log(GATED, run_id, "publish", tis["publish"]["try_number"])
    assert "not published: run" in log


def test_vtm_says_so_when_airflow_refuses_its_login(setup: Setup, tmp_path: Path) -> None:
    server = Server(
        tmp_path / "home",
        f"sqlite:///{tmp_path / 'vtm.db'}",
        catalog=setup.vtm.catalog,
        VTM_AIRFLOW_URL=setup.airflow.url,
        VTM_AIRFLOW_USERNAME="admin",
        VTM_AIRFLOW_PASSWORD="not-the-password",
    ).start()
    try:
        body = server.client.get("/api/pipelines/status").json()
    finally:
        server.stop()
        server.client.close()
    assert body["configured"] is True
    assert "refused the login of 'admin' (401)" in body["error"]
    assert "not-the-password" not in str(body)
    assert all(p["dagRuns"] == [] for p in body["pipelines"])


def test_the_pipelines_page_shows_dag_runs_linked_to_vtm_runs(setup: Setup) -> None:
    """Chromium on the Pipelines page of this setup (after the DAG runs above), then a task's
    VTM run page with its Airflow origin. ``VTM_SCREENSHOTS=1`` writes
    docs/screenshots/pipelines.png."""
    status = {p["pipelineId"]: p for p in setup.status()["pipelines"]}
    if not any(r["runId"] == "vtm-check-1" for r in status[PIPELINE]["dagRuns"]):
        pytest.fail("the DAG run of the first test is missing: run the whole module")
    # Its own Playwright, closed at the end of the test: a session-wide one is the e2e suite's.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium.binary(), args=list(chromium.ARGS)
        )
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
        page.goto(setup.vtm.url + "/")
        page.get_by_test_id("nav-pipelines").click()
        expect(page.get_by_test_id("airflow-status")).to_have_attribute(
            "data-state", "ok", timeout=15_000
        )
        card = page.get_by_test_id(f"pipeline-{PIPELINE}")
        expect(card.get_by_test_id(f"pipeline-dag-link-{PIPELINE}")).to_have_attribute(
            "href", f"{setup.airflow.url}/dags/{PIPELINE}"
        )
        expect(card.get_by_test_id(f"pipeline-step-{PIPELINE}-train")).to_contain_text("prepare")
        row = card.get_by_test_id("dag-run-vtm-check-1")
        expect(row).to_have_attribute("data-state", "success")
        expect(row.get_by_test_id("dag-task-train")).to_have_attribute("data-state", "success")
        expect(row.get_by_test_id("dag-task-train")).to_contain_text("try 2")
        failed = page.get_by_test_id(f"pipeline-{FAILING}").get_by_test_id("dag-run-vtm-fails-1")
        expect(failed).to_have_attribute("data-state", "failed")
        expect(failed.get_by_test_id("dag-task-after")).to_have_attribute(
            "data-state", "upstream_failed"
        )
        gated = page.get_by_test_id(f"pipeline-{GATED}").get_by_test_id("dag-run-vtm-gated-1")
        expect(gated.get_by_test_id("dag-task-publish")).to_have_attribute("data-state", "skipped")
        expect(gated.get_by_test_id("dag-task-note-publish")).to_contain_text(
            "below the floor 0.3 of task 'tiny-model' (publish.minMetric): not published"
        )
        if os.environ.get("VTM_SCREENSHOTS") == "1":
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / "pipelines.png", full_page=True, animations="disabled")

        [_, first_try, second_try] = setup.vtm_runs_of(PIPELINE, "vtm-check-1")
        row.get_by_test_id("dag-task-run-train").click()
        expect(page.get_by_test_id("run-id")).to_have_text(second_try["id"])
        origin = page.get_by_test_id("run-origin")
        expect(origin).to_have_attribute("data-kind", "airflow")
        expect(origin.get_by_test_id("run-origin-try")).to_have_text("2")
        expect(origin.get_by_test_id("run-origin-airflow-link")).to_have_attribute(
            "href",
            f"{setup.airflow.url}/dags/{PIPELINE}/runs/vtm-check-1/tasks/train?try_number=2",
        )
        origin.get_by_test_id("run-previous-try").click()
        expect(page.get_by_test_id("run-id")).to_have_text(first_try["id"])
        expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failed")
        browser.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_make_airflow_stopped_with_sigterm_leaves_no_process(setup: Setup) -> None:
    """Last: it stops the module's Airflow, started by `make airflow` as a person starts it.
    SIGTERM to make alone (``kill <make>``): make passes it to its child, the launcher, which
    stops standalone, its components and the LocalExecutor workers, and make exits after it."""
    stopped = setup.airflow.stop(signal.SIGTERM)
    titles = list(stopped.before.values())
    for component in COMPONENTS:
        assert any(component in t for t in titles), (component, titles)
    assert stopped.left == {}, f"outlived make: {stopped.left}"
    assert stopped.returncode == -signal.SIGTERM, setup.airflow.log()
    assert stopped.seconds < STOP_BOUND, stopped
    assert "launcher   | SIGTERM: stopping Airflow" in setup.airflow.log()
