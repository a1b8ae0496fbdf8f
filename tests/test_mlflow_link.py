"""VTM runs and MLflow runs, linked both ways, against VTM's real embedded MLflow store.

The sample trainer logs params, per-epoch metrics, artifacts and its model to MLflow and tags
the MLflow run with the VTM run id; VTM records the MLflow run id (from the trainer's meta
line, or by that tag when the trainer prints none); examples/evaluate.py loads the model back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support import TESTS, Server, wait_for
from vtm.integrations.mlflow import VTM_RUN_TAG, VTM_TASK_TAG, ensure_experiment, tracking_client
from vtm.integrations.mlflow.linker import find_tagged_run
from vtm.integrations.mlflow.store import init_store
from vtm.settings import Settings
from vtm.states import RunStatus
from vtm.store import LaunchRecord, RunData
from vtm.store.records import utcnow

EXAMPLES = TESTS.parent / "examples"
SAMPLE = EXAMPLES / "training_catalog.yaml"


@pytest.fixture
def sample_server(vtm_home: Path, sqlite_url: str) -> Iterator[Server]:
    srv = Server(vtm_home, sqlite_url, catalog=SAMPLE).start()
    yield srv
    srv.stop()
    srv.client.close()


def log_lines(srv: Server, run_id: str, prefix: str) -> list[str]:
    return [
        line[len(prefix) :]
        for line in srv.full_log(run_id).decode().splitlines()
        if line.startswith(prefix)
    ]


def finished(srv: Server, run_id: str, timeout: float = 300) -> dict[str, Any]:
    run = srv.wait_status(run_id, timeout=timeout)
    assert run["status"] == "completed", srv.full_log(run_id).decode()[-3000:]
    return run


@pytest.mark.slow
def test_a_sample_run_is_in_mlflow_linked_both_ways_and_evaluates(
    sample_server: Server, mlflow_settings: Settings
) -> None:
    srv = sample_server
    vtm_run = srv.start_run("digits-cnn", epochs=3, lr=0.002)
    done = finished(srv, vtm_run["id"])

    # VTM -> MLflow: the run record names the MLflow run ...
    mlflow_id = done["mlflowRunId"]
    assert mlflow_id, done
    client = tracking_client(mlflow_settings)
    mlflow_run = client.get_run(mlflow_id)
    # ... and MLflow -> VTM: that run is tagged with the VTM run.
    assert mlflow_run.data.tags[VTM_RUN_TAG] == vtm_run["id"]
    assert mlflow_run.data.tags[VTM_TASK_TAG] == "digits-cnn"
    assert mlflow_run.info.status == "FINISHED"
    experiment = client.get_experiment(mlflow_run.info.experiment_id)
    assert experiment.name == "digits-cnn"  # the catalog's mlflow.experiment
    artifacts_root = (mlflow_settings.mlflow_artifact_root / "digits-cnn").as_uri()
    assert experiment.artifact_location == artifacts_root

    params = mlflow_run.data.params
    assert (params["epochs"], params["lr"], params["optimizer"]) == ("3", "0.002", "adam")

    # The full metric history, the same values VTM indexed from the progress lines.
    vtm_series = srv.client.get(f"/api/runs/{vtm_run['id']}/metrics").json()["series"]
    for name in ("train_loss", "val_loss", "val_accuracy"):
        history = client.get_metric_history(mlflow_id, name)
        assert [m.step for m in history] == [1, 2, 3], name
        vtm_values = [p["value"] for p in vtm_series[name]]
        assert [m.value for m in history] == pytest.approx(vtm_values), name

    # The model and the run's own files.
    models = mlflow_run.outputs.model_outputs
    assert len(models) == 1
    model = client.get_logged_model(models[0].model_id)
    assert model.name == "model" and model.source_run_id == mlflow_id
    assert model.artifact_location.startswith(artifacts_root)
    files = {a.path for a in client.list_artifacts(mlflow_id)}
    assert {"history.csv", "confusion_matrix.json"} <= files
    history_csv = Path(client.download_artifacts(mlflow_id, "history.csv", str(srv.home)))
    assert history_csv.read_text().splitlines()[0] == "epoch,train_loss,val_loss,val_accuracy"

    # Evaluation of that very run, by id.
    by_id = srv.start_run("digits-evaluate", mlflow_run_id=mlflow_id)
    evaluated = finished(srv, by_id["id"])
    assert evaluated["progress"]["evaluated_run_id"] == mlflow_id
    assert evaluated["progress"]["test_accuracy"] > 0.8
    assert evaluated["progress"]["test_loss"] > 0
    assert evaluated["meta"]["evaluated_mlflow_run_id"] == mlflow_id
    eval_run = client.get_run(evaluated["mlflowRunId"])
    assert client.get_experiment(eval_run.info.experiment_id).name == "digits-evaluate"
    assert eval_run.data.tags["vtm.evaluated_run_id"] == mlflow_id
    assert eval_run.data.tags[VTM_RUN_TAG] == by_id["id"]
    assert eval_run.data.metrics["test_accuracy"] == pytest.approx(
        evaluated["progress"]["test_accuracy"]
    )

    # Without an id: the latest finished digits-cnn run with a model, which is the same one.
    latest = finished(srv, srv.start_run("digits-evaluate")["id"])
    assert latest["progress"]["evaluated_run_id"] == mlflow_id
    assert latest["progress"]["test_accuracy"] == evaluated["progress"]["test_accuracy"]

    # A run that does not exist: a clear reason and a failed run.
    missing = srv.start_run("digits-evaluate", mlflow_run_id="0" * 32)
    failed = srv.wait_status(missing["id"], timeout=120)
    assert failed["status"] == "failed" and failed["exitCode"] == 1
    assert f"error: no MLflow run '{'0' * 32}'" in srv.full_log(missing["id"]).decode()


def sse_records(srv: Server, ready: threading.Event, out: list[tuple[str, dict[str, Any]]]) -> None:
    """Collect (event, run record) pairs until the stream is closed."""
    with (
        httpx.Client(base_url=srv.url, timeout=None) as client,
        client.stream("GET", "/api/events") as response,
    ):
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
                if kind == "hello":
                    ready.set()
            elif line.startswith("data: ") and kind.startswith("run."):
                out.append((kind, json.loads(line[6:])))


def test_a_run_tagged_in_mlflow_is_linked_without_a_meta_line(
    vtm_home: Path, sqlite_url: str, mlflow_settings: Settings
) -> None:
    srv = Server(vtm_home, sqlite_url).start()
    events: list[tuple[str, dict[str, Any]]] = []
    ready = threading.Event()
    threading.Thread(target=sse_records, args=(srv, ready, events), daemon=True).start()
    try:
        assert ready.wait(30)
        run = srv.start_run("mlflow-tagged", epochs=2)
        done = finished(srv, run["id"], timeout=120)
        (tagged,) = log_lines(srv, run["id"], "mlflow-run::")
        assert "VTM_RUN_META" not in srv.full_log(run["id"]).decode()

        linked = wait_for(
            lambda: srv.run(run["id"])["mlflowRunId"] == tagged, "the link by tag", timeout=60
        )
        assert linked
        assert done["meta"] == {}  # it came from MLflow, not from the trainer
        # Pushed to the UI: a run.updated after run.finished carries the link.
        wait_for(
            lambda: any(
                kind == "run.updated" and r["id"] == run["id"] and r["mlflowRunId"] == tagged
                for kind, r in events
            ),
            "the run.updated event with the link",
        )
        kinds = [k for k, r in events if r["id"] == run["id"]]
        assert kinds.index("run.finished") < len(kinds) - 1
        mlflow_run = tracking_client(mlflow_settings).get_run(tagged)
        assert mlflow_run.data.tags[VTM_RUN_TAG] == run["id"]
    finally:
        srv.stop()
        srv.client.close()


def test_the_trainer_gets_mlflows_environment_and_keeps_its_experiment(
    vtm_home: Path, sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(TESTS / "trainers", folder)
    catalog = folder / "catalog.yaml"
    gates = tmp_path / "gates"
    gates.mkdir()
    srv = Server(vtm_home, sqlite_url, catalog=catalog, VTM_MAX_CONCURRENT_RUNS="1").start()
    try:
        first = srv.start_run("mlflow-tagged", epochs=1, gate_dir=str(gates))
        queued = srv.start_run("mlflow-tagged", epochs=1)
        assert queued["status"] == "queued"

        # The catalog changes the task's experiment while the second run waits in the queue.
        loaded_at = srv.client.get("/api/catalog").json()["loadedAt"]
        catalog.write_text(
            catalog.read_text().replace("{experiment: tagged-exp}", "{experiment: renamed-exp}")
        )
        wait_for(
            lambda: srv.client.get("/api/catalog").json()["loadedAt"] != loaded_at,
            "the catalog to reload",
        )
        after = srv.start_run("mlflow-tagged", epochs=1)
        (gates / first["id"]).touch()
        for run in (first, queued, after):
            finished(srv, run["id"], timeout=180)

        def env_of(run: dict[str, Any]) -> dict[str, str]:
            (line,) = log_lines(srv, run["id"], "mlflowenv::")
            env: dict[str, str] = json.loads(line)
            return env

        env = env_of(queued)
        assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{vtm_home / 'mlflow' / 'mlflow.db'}"
        assert env["MLFLOW_EXPERIMENT_NAME"] == "tagged-exp"  # as when the run was created
        assert env["VTM_MLFLOW_ARTIFACT_ROOT"] == str(vtm_home / "mlflow" / "artifacts")
        assert env_of(after)["MLFLOW_EXPERIMENT_NAME"] == "renamed-exp"
        # Each is linked, by tag, to an MLflow run in its own experiment.
        for run in (first, queued, after):
            (tagged,) = log_lines(srv, run["id"], "mlflow-run::")
            wait_for(lambda r=run, t=tagged: srv.run(r["id"])["mlflowRunId"] == t, "the link")
    finally:
        srv.stop()
        srv.client.close()


def _run(run_id: str, experiment: str) -> RunData:
    now = utcnow()
    return RunData(
        seq=1,
        id=run_id,
        task_id="some-task",
        status=RunStatus.COMPLETED,
        fields={},
        command=[],
        launch=LaunchRecord(mlflow_experiment=experiment),
        progress={},
        meta={},
        mlflow_run_id=None,
        log_tail=[],
        exit_code=0,
        error=None,
        created_at=now,
        started_at=now,
        finished_at=now,
        updated_at=now,
        log_offset=0,
        at_line_start=True,
        line_count=0,
        progress_count=0,
        protocol_errors=0,
        stop_requested=False,
        gpus=[],
    )


def test_find_tagged_run_takes_the_first_run_with_the_tag(mlflow_settings: Settings) -> None:
    init_store(mlflow_settings)
    client = tracking_client(mlflow_settings)
    experiment = ensure_experiment(mlflow_settings, "exp-a")
    other = ensure_experiment(mlflow_settings, "exp-b")
    vtm_id = "20261126-120000-abcdef"
    main = client.create_run(experiment, tags={VTM_RUN_TAG: vtm_id}, start_time=1000)
    client.create_run(experiment, tags={VTM_RUN_TAG: vtm_id}, start_time=2000)  # e.g. a child
    client.create_run(experiment, tags={VTM_RUN_TAG: "20261126-120000-000000"}, start_time=500)
    client.create_run(other, tags={VTM_RUN_TAG: vtm_id}, start_time=100)

    assert find_tagged_run(mlflow_settings, _run(vtm_id, "exp-a")) == main.info.run_id
    assert find_tagged_run(mlflow_settings, _run("20261126-130000-abcdef", "exp-a")) is None
    assert find_tagged_run(mlflow_settings, _run(vtm_id, "no-such-experiment")) is None
    # A quote cannot break out of the filter expression.
    assert find_tagged_run(mlflow_settings, _run("x' OR '1'='1", "exp-a")) is None


@pytest.mark.slow
def test_evaluate_needs_a_tracking_store(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "evaluate.py")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "error: MLFLOW_TRACKING_URI is not set" in result.stderr
