"""Publishing only a model that deserves it: the task's floor (catalog ``publish.minMetric``)
for every publish, and a pipeline step's gate — the run it trained, judged by its evaluation
step's metric, at least a minimum and better than the champion. Real `vtm serve`, real trainers
logging real models to a real MLflow registry (the embedded store of the test's home)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import TEST_CATALOG, Server
from vtm.integrations.mlflow import ensure_experiment, tracking_client
from vtm.integrations.mlflow.store import init_store
from vtm.settings import Settings

TASK, EVALUATE, MODEL = "tiny-model", "tiny-evaluate", "tiny-registered"


@pytest.fixture
def gate_server(vtm_home: Path, mlflow_store: Path) -> Iterator[tuple[Server, Settings]]:
    # What is judged is MLflow's side; VTM's store runs on both databases elsewhere.
    settings = Settings(home=vtm_home, catalog=TEST_CATALOG)
    init_store(settings)
    ensure_experiment(settings, TASK)
    srv = Server(vtm_home, f"sqlite:///{vtm_home / 'vtm.db'}").start()
    yield srv, settings
    srv.stop()
    srv.client.close()


def completed(srv: Server, task: str, **fields: Any) -> str:
    run = srv.wait_status(srv.start_run(task, **fields)["id"], timeout=120)
    assert run["status"] == "completed", srv.full_log(run["id"]).decode()[-2000:]
    return str(run["id"])


def publish(srv: Server, **body: Any) -> Any:
    return srv.client.post("/api/publish", json={"task": TASK, **body}, timeout=120)


def trained_and_judged(srv: Server, *models: tuple[float, float]) -> list[tuple[str, str]]:
    """(training run, evaluation run) per (val_accuracy, test_accuracy), all run at once."""
    started = [
        (srv.start_run(TASK, value=value)["id"], srv.start_run(EVALUATE, test_accuracy=test)["id"])
        for value, test in models
    ]
    for pair in started:
        for run_id in pair:
            run = srv.wait_status(run_id, timeout=180)
            assert run["status"] == "completed", srv.full_log(run_id).decode()[-2000:]
    return started


def vtm_publish(srv: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    return subprocess.run(
        [sys.executable, "-m", "vtm", "publish", *args],
        env={**env, "VTM_URL": srv.url, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def registry(settings: Settings) -> tuple[dict[str, int], dict[int, dict[str, str]]]:
    client = tracking_client(settings)
    if not client.search_registered_models(filter_string=f"name = '{MODEL}'"):
        return {}, {}
    aliases = {a: int(v) for a, v in client.get_registered_model(MODEL).aliases.items()}
    versions = {
        int(v.version): dict(v.tags) for v in client.search_model_versions(f"name = '{MODEL}'")
    }
    return aliases, versions


def test_vtm_publish_by_hand_honours_the_floor(gate_server: tuple[Server, Settings]) -> None:
    srv, settings = gate_server
    weak = completed(srv, TASK, value=0.041)

    r = publish(srv)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "not_published"
    assert error["message"] == (
        f"run {weak} has val_accuracy 0.041, below the floor 0.3 of task 'tiny-model' "
        "(publish.minMetric): not published"
    )
    assert registry(settings) == ({}, {})
    # The command says why, and exits 3: not published is a decision, not a failure.
    refused = vtm_publish(srv, TASK)
    assert refused.returncode == 3, refused.stderr
    assert "below the floor 0.3 of task 'tiny-model' (publish.minMetric)" in refused.stderr

    good = completed(srv, TASK, value=0.6)
    published = vtm_publish(srv, TASK)
    assert published.returncode == 0, published.stderr
    assert f"from run {good}" in published.stdout
    # Asking for the weak run by name changes nothing either.
    assert vtm_publish(srv, TASK, "--run", weak[:15]).returncode == 3
    assert registry(settings)[0] == {"champion": 1}


def test_a_pipeline_publishes_its_run_only_when_it_beats_the_champion(
    gate_server: tuple[Server, Settings],
) -> None:
    srv, settings = gate_server
    gate = {"minMetric": 0.5, "againstChampion": True}

    # (val_accuracy of the training run, test_accuracy its evaluation measured)
    models = [(0.6, 0.8), (0.95, 0.75), (0.7, 0.8), (0.6, 0.45), (0.62, 0.9)]
    first_pair, worse_pair, same_pair, low_pair, better_pair = trained_and_judged(srv, *models)
    (first, first_eval), (worse, worse_eval), (same, same_eval) = first_pair, worse_pair, same_pair
    (low, low_eval), (better, better_eval) = low_pair, better_pair

    # The first model: nobody to beat, above the minimum.
    r = publish(srv, runId=first, gate={**gate, "evaluationRunId": first_eval})
    assert r.status_code == 200, r.text
    v1 = r.json()
    assert (v1["vtmRunId"], v1["version"], v1["alias"]) == (first, 1, "champion")
    assert v1["verdict"] == {
        "metric": "test_accuracy",  # the evaluation task's primary metric
        "goal": "max",
        "value": 0.8,
        "minMetric": 0.5,
        "evaluationRunId": first_eval,
        "championVersion": None,
        "championValue": None,
    }

    # A better training run that the evaluation finds worse than the champion: skipped,
    # though by its own training metric it is the best run of all.
    r = publish(srv, runId=worse, gate={**gate, "evaluationRunId": worse_eval})
    assert r.status_code == 409, r.text
    assert r.json()["error"] == {
        "code": "not_published",
        "message": f"evaluation run {worse_eval} measured test_accuracy 0.75; the champion "
        "(version 1 of 'tiny-registered') has 0.8: not better, not published",
        "fields": [],
    }
    # An equal one is not better either.
    r = publish(srv, runId=same, gate={**gate, "evaluationRunId": same_eval})
    assert r.status_code == 409 and "not better" in r.json()["error"]["message"]

    # Below the step's minimum: skipped whatever the champion.
    r = publish(srv, runId=low, gate={**gate, "evaluationRunId": low_eval})
    assert r.status_code == 409
    assert r.json()["error"]["message"] == (
        f"evaluation run {low_eval} measured test_accuracy 0.45, below the step's minMetric "
        "0.5: not published"
    )
    assert registry(settings)[0] == {"champion": 1}
    assert list(registry(settings)[1]) == [1]

    # A model that beats the champion becomes the champion, compared with its recorded value.
    r = publish(srv, runId=better, gate={**gate, "evaluationRunId": better_eval})
    assert r.status_code == 200, r.text
    v2 = r.json()
    assert (v2["vtmRunId"], v2["version"]) == (better, 2)
    assert (v2["verdict"]["championVersion"], v2["verdict"]["championValue"]) == (1, 0.8)
    aliases, versions = registry(settings)
    assert aliases == {"champion": 2}
    assert versions[2]["vtm.metric.test_accuracy"] == "0.9"
    assert versions[2]["vtm.evaluation_run_id"] == better_eval

    # The champion itself, asked again: already published, nothing judged or changed.
    r = publish(srv, runId=better, gate={**gate, "evaluationRunId": better_eval})
    assert r.status_code == 200 and r.json()["alreadyPublished"] is True
    assert registry(settings)[0] == {"champion": 2}


def test_gate_requests_that_cannot_be_judged_are_errors(
    gate_server: tuple[Server, Settings],
) -> None:
    """A misconfigured step fails (and Airflow says so); only a judged model is "skipped"."""
    srv, _ = gate_server
    ((run, evaluation),) = trained_and_judged(srv, (0.6, 0.5))

    def error(**body: Any) -> tuple[int, str, str]:
        r = publish(srv, **body)
        e = r.json()["error"]
        return r.status_code, e["code"], e["message"]

    assert error(runId="20261202-000000-abcdef")[:2] == (422, "validation_failed")
    assert error(runId=evaluation) == (
        422,
        "validation_failed",
        f"runId: run {evaluation} is of 'tiny-evaluate', not 'tiny-model'",
    )
    status, code, message = error(runId=run, gate={"evaluationRunId": run, "metric": "nope"})
    assert (status, code) == (422, "validation_failed") and message.startswith("gate.goal:")
    status, code, message = error(
        runId=run, gate={"evaluationRunId": evaluation, "metric": "nope", "goal": "max"}
    )
    assert (status, code) == (404, "not_found")
    assert message == f"evaluation run {evaluation} of 'tiny-evaluate' reported no 'nope'"
