"""The MLflow Ops API against a real MLflow store: the server's own embedded one.

The test process logs experiments, runs, metric steps, artifacts, a logged model and registry
versions into ``sqlite:///$VTM_HOME/mlflow/mlflow.db`` with MLflow's own client
(tests/mlflow_scenario.py); a real `vtm serve` on that home must then show every piece of it
through /api/mlflow/...
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from mlflow_scenario import (
    EXPERIMENT,
    NOTE,
    ODD_BYTES,
    ODD_NAME,
    REGISTERED,
    Scenario,
    running_scenario,
)
from support import Server, free_port, kill_everything_of, wait_for


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with running_scenario(tmp_path_factory.mktemp("mlflow-ops") / "home") as scenario:
        yield scenario


def get(store: Scenario, path: str, /, **params: Any) -> Any:
    r = store.server.client.get(f"/api/mlflow{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def error(store: Scenario, path: str, status: int, /, **params: Any) -> dict[str, Any]:
    r = store.server.client.get(f"/api/mlflow{path}", params=params)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    return body


def test_status_reports_the_embedded_store(store: Scenario) -> None:
    status = get(store, "/status")
    assert status == {
        "trackingUri": f"sqlite:///{store.server.home / 'mlflow' / 'mlflow.db'}",
        "embedded": True,
        "uiUrl": None,
        "reachable": True,
        "error": None,
        "creating": False,
    }


def statuses_until_reachable(server: Server) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def probe() -> bool:
        seen.append(server.client.get("/api/mlflow/status").json())
        return bool(seen[-1]["reachable"])

    wait_for(probe, "the MLflow store to answer", timeout=120, every=0.05)
    return seen


def coherent(status: dict[str, Any]) -> bool:
    """Reachable, or being created, said as such: never "unreachable" while it is created."""
    if status["reachable"]:
        return status["error"] is None and not status["creating"]
    return status["creating"] and status["error"] == "the embedded store is being created"


def test_the_embedded_store_is_created_as_the_server_starts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = Server(home, f"sqlite:///{tmp_path / 'vtm.db'}", VTM_MLFLOW_STORE_AT_START="true")
    server.start()
    try:
        # Nobody asked for MLflow: the server creates the store by itself, without --mlflow-server.
        wait_for((home / "mlflow" / "mlflow.db").exists, "mlflow.db", timeout=120)
        seen = statuses_until_reachable(server)
        assert all(coherent(s) for s in seen), seen
        r = server.client.get("/api/mlflow/experiments")
        assert [e["name"] for e in r.json()["experiments"]] == ["Default"]
    finally:
        server.stop()
        server.client.close()
        kill_everything_of(home)
    assert "could not be initialised" not in server.log()


def test_a_store_created_on_first_use_says_it_is_being_created(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = Server(home, f"sqlite:///{tmp_path / 'vtm.db'}", VTM_MLFLOW_STORE_AT_START="false")
    server.start()
    try:
        assert not (home / "mlflow" / "mlflow.db").exists()
        seen = statuses_until_reachable(server)
        # The first question began the creation; no answer called the store unreachable.
        assert seen[0]["creating"] is True
        assert all(coherent(s) for s in seen), seen
    finally:
        server.stop()
        server.client.close()
        kill_everything_of(home)


def test_experiments_with_artifact_location_and_tags(store: Scenario) -> None:
    experiments = get(store, "/experiments")["experiments"]
    ours = next(e for e in experiments if e["name"] == EXPERIMENT)
    assert ours["id"] == store.experiment_id
    assert (
        ours["artifactLocation"]
        == (store.server.home / "mlflow" / "artifacts" / EXPERIMENT).as_uri()
    )
    assert ours["lifecycleStage"] == "active"
    assert ours["tags"] == {"team": "cv"}
    assert ours["lastUpdateTime"] is not None
    # "Last update" to a person: the newest run (lower-lr, by start) and its end.
    lower = get(store, f"/runs/{store.lower_lr}")["run"]
    assert ours["latestRunTime"] == lower["endTime"]
    assert experiments[0] == ours  # the most recently active first
    default = next(e for e in experiments if e["name"] == "Default")
    assert default["latestRunTime"] is None  # no runs
    assert get(store, f"/experiments/{store.experiment_id}") == ours
    page = get(store, f"/experiments/{store.experiment_id}/runs")
    assert page["experiment"] == ours


def test_runs_newest_first_with_params_metrics_tags_and_vtm_id(store: Scenario) -> None:
    page = get(store, f"/experiments/{store.experiment_id}/runs")
    assert page["experiment"]["name"] == EXPERIMENT
    assert [r["id"] for r in page["runs"]] == [store.lower_lr, store.baseline]
    assert page["nextPageToken"] is None
    lower, baseline = page["runs"]
    assert baseline["name"] == "baseline"
    assert baseline["status"] == "FINISHED"
    assert baseline["params"] == {"lr": "0.01", "epochs": "3", "optimizer": "adam"}
    assert baseline["metrics"] == {"val/accuracy": 0.75, "loss": 0.5}
    assert baseline["tags"]["vtm.task"] == "scripted"
    assert baseline["vtmRunId"] == store.vtm_stored
    assert baseline["startTime"] < baseline["endTime"]
    assert lower["status"] == "FAILED"
    assert lower["vtmRunId"] == store.vtm_tagged
    # NaN has no JSON form: it arrives as null, not as a broken body.
    assert lower["metrics"] == {"val/accuracy": 0.55, "loss": None}

    first = get(store, f"/experiments/{store.experiment_id}/runs", maxResults=1)
    assert [r["id"] for r in first["runs"]] == [store.lower_lr]
    assert first["nextPageToken"]
    older = get(
        store,
        f"/experiments/{store.experiment_id}/runs",
        maxResults=1,
        pageToken=first["nextPageToken"],
    )
    assert [r["id"] for r in older["runs"]] == [store.baseline]
    assert error(store, f"/experiments/{store.experiment_id}/runs", 422, maxResults=0)
    bad_token = error(store, f"/experiments/{store.experiment_id}/runs", 422, pageToken="junk")
    assert bad_token["fields"][0]["field"] == "pageToken"


def test_run_detail_lists_its_logged_model(store: Scenario) -> None:
    detail = get(store, f"/runs/{store.baseline}")
    assert detail["run"]["id"] == store.baseline
    assert detail["experimentName"] == EXPERIMENT
    [model] = detail["loggedModels"]
    assert model["id"] == store.model_id
    assert model["name"] == "model"
    assert model["sourceRunId"] == store.baseline
    assert model["modelUri"] == f"models:/{store.model_id}"
    assert model["status"] == "READY"
    # MLflow 3 keeps logged models beside the runs, not in the run's artifacts.
    assert model["artifactLocation"].endswith(f"/{EXPERIMENT}/models/{store.model_id}/artifacts")
    assert get(store, f"/logged-models/{store.model_id}") == model
    assert get(store, f"/runs/{store.lower_lr}")["loggedModels"] == []


def test_metric_history_by_step_for_a_key_with_a_slash(store: Scenario) -> None:
    history = get(store, f"/runs/{store.baseline}/metric-history", key="val/accuracy")
    assert history["runId"] == store.baseline
    assert history["key"] == "val/accuracy"
    assert [(p["step"], p["value"]) for p in history["points"]] == [(0, 0.5), (1, 0.6), (2, 0.75)]
    assert all(p["timestamp"].startswith("20") for p in history["points"])
    nan = get(store, f"/runs/{store.lower_lr}/metric-history", key="loss")
    assert [(p["step"], p["value"]) for p in nan["points"]] == [(0, None)]
    assert (
        "no metric"
        in error(store, f"/runs/{store.baseline}/metric-history", 404, key="nope")["message"]
    )
    assert error(store, f"/runs/{store.baseline}/metric-history", 422)["fields"][0]["field"] == (
        "key"
    )


def test_run_artifacts_browse_folders_and_download_files(store: Scenario) -> None:
    root = get(store, f"/runs/{store.baseline}/artifacts")
    assert root["path"] == ""
    # Folders first; the model is not here (MLflow 3).
    assert [(e["path"], e["isDir"]) for e in root["entries"]] == [
        ("notes", True),
        ("top.txt", False),
    ]
    notes = get(store, f"/runs/{store.baseline}/artifacts", path="notes")
    assert notes["path"] == "notes"
    assert {e["path"]: (e["name"], e["size"]) for e in notes["entries"]} == {
        f"notes/{ODD_NAME}": (ODD_NAME, len(ODD_BYTES)),
        "notes/summary.txt": ("summary.txt", len(NOTE)),
    }
    assert get(store, f"/runs/{store.baseline}/artifacts", path="./notes/")["path"] == "notes"

    client = store.server.client
    r = client.get(
        f"/api/mlflow/runs/{store.baseline}/artifacts/download",
        params={"path": "notes/summary.txt"},
    )
    assert r.status_code == 200, r.text
    assert r.text == NOTE
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == 'attachment; filename="summary.txt"'
    r = client.get(
        f"/api/mlflow/runs/{store.baseline}/artifacts/download",
        params={"path": f"notes/{ODD_NAME}"},
    )
    assert r.status_code == 200, r.text
    assert r.content == ODD_BYTES
    assert f"filename*=utf-8''{quote(ODD_NAME)}" in r.headers["content-disposition"]


@pytest.mark.parametrize(
    "path", ["../../../../etc/passwd", "notes/../../secret", "/etc/passwd", "..", "C:\\x", "a\\b"]
)
def test_paths_out_of_the_artifacts_are_refused(store: Scenario, path: str) -> None:
    for endpoint in (
        f"/runs/{store.baseline}/artifacts",
        f"/runs/{store.baseline}/artifacts/download",
        f"/logged-models/{store.model_id}/artifacts",
        f"/logged-models/{store.model_id}/artifacts/download",
    ):
        body = error(store, endpoint, 422, path=path)
        assert body["fields"] == [{"field": "path", "message": body["fields"][0]["message"]}]
        assert ".." in body["message"]


def test_missing_artifacts_are_404(store: Scenario) -> None:
    run = f"/runs/{store.baseline}/artifacts"
    assert error(store, run, 404, path="nope")["code"] == "not_found"
    assert error(store, run, 404, path="top.txt")  # a file is not a folder
    assert error(store, f"{run}/download", 404, path="nope.txt")
    assert error(store, f"{run}/download", 404, path="notes")  # a folder is not a file
    assert error(store, f"{run}/download", 422, path="")
    assert error(store, "/runs/0123456789abcdef0123456789abcdef/artifacts", 404)
    model = f"/logged-models/{store.model_id}/artifacts"
    assert error(store, model, 404, path="nope")
    assert error(store, f"{model}/download", 404, path="nope")
    assert error(store, "/logged-models/m-0123456789abcdef/artifacts", 404)


def test_logged_model_files_browse_and_download(store: Scenario) -> None:
    listing = get(store, f"/logged-models/{store.model_id}/artifacts")
    names = {e["name"] for e in listing["entries"]}
    assert {"MLmodel", "python_model.pkl", "requirements.txt"} <= names
    r = store.server.client.get(
        f"/api/mlflow/logged-models/{store.model_id}/artifacts/download", params={"path": "MLmodel"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == 'attachment; filename="MLmodel"'
    assert f"model_id: {store.model_id}" in r.text
    on_disk = (
        store.server.home
        / "mlflow"
        / "artifacts"
        / EXPERIMENT
        / "models"
        / store.model_id
        / "artifacts"
        / "MLmodel"
    )
    assert r.content == on_disk.read_bytes()


def test_compare_marks_the_params_that_differ(store: Scenario) -> None:
    r = store.server.client.get(
        "/api/mlflow/compare", params=[("runId", store.baseline), ("runId", store.lower_lr)]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [run["id"] for run in body["runs"]] == [store.baseline, store.lower_lr]
    params = {row["key"]: (row["values"], row["differs"]) for row in body["params"]}
    assert params == {
        "epochs": ({store.baseline: "3", store.lower_lr: "3"}, False),
        "lr": ({store.baseline: "0.01", store.lower_lr: "0.001"}, True),
        "optimizer": ({store.baseline: "adam", store.lower_lr: "adam"}, False),
        "seed": ({store.baseline: None, store.lower_lr: "7"}, True),
    }
    metrics = {row["key"]: row["values"] for row in body["metrics"]}
    assert metrics == {
        "loss": {store.baseline: 0.5, store.lower_lr: None},
        "val/accuracy": {store.baseline: 0.75, store.lower_lr: 0.55},
    }
    assert error(store, "/compare", 422, runId=store.baseline)["fields"][0]["field"] == "runId"
    assert error(store, "/compare", 422)
    missing = [("runId", store.baseline), ("runId", "0123456789abcdef0123456789abcdef")]
    assert store.server.client.get("/api/mlflow/compare", params=missing).status_code == 404


def test_registered_models_with_versions_and_aliases(store: Scenario) -> None:
    models = get(store, "/registered-models")["models"]
    [model] = [m for m in models if m["name"] == REGISTERED]
    assert model["description"] == "digits"
    assert model["aliases"] == {"champion": "1", "challenger": "2"}
    versions = [
        (v["version"], v["runId"], v["source"], v["status"], v["aliases"])
        for v in model["versions"]
    ]
    source = f"models:/{store.model_id}"
    assert versions == [
        ("2", store.baseline, source, "READY", ["challenger"]),
        ("1", store.baseline, source, "READY", ["champion"]),
    ]
    assert all(v["creationTime"] for v in model["versions"])
    assert get(store, f"/registered-models/{REGISTERED}") == model
    assert error(store, "/registered-models/no-such-model", 404)["code"] == "not_found"


def test_the_mlflow_run_of_a_vtm_run(store: Scenario) -> None:
    stored = get(store, f"/vtm-runs/{store.vtm_stored}")
    assert stored["vtmRunId"] == store.vtm_stored
    assert stored["mlflowRunId"] == store.baseline
    assert stored["linkedBy"] == "stored"
    assert stored["run"]["params"]["lr"] == "0.01"

    tagged = get(store, f"/vtm-runs/{store.vtm_tagged}")
    assert store.server.run(store.vtm_tagged)["mlflowRunId"] is None
    assert (tagged["mlflowRunId"], tagged["linkedBy"]) == (store.lower_lr, "tag")

    # None found is an answer (the UI shows it), not an error.
    assert get(store, f"/vtm-runs/{store.vtm_unlinked}") == {
        "vtmRunId": store.vtm_unlinked,
        "mlflowRunId": None,
        "linkedBy": None,
        "run": None,
    }
    assert error(store, "/vtm-runs/20990101-000000-zzzzzz", 404)["code"] == "not_found"


def test_unknown_ids_are_404(store: Scenario) -> None:
    for path in (
        "/experiments/987654",
        "/experiments/not-a-number",
        "/experiments/987654/runs",
        "/runs/0123456789abcdef0123456789abcdef",
        "/logged-models/m-0123456789abcdef",
    ):
        assert error(store, path, 404)["code"] == "not_found", path


def test_the_api_requires_the_token_like_the_rest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = Server(home, f"sqlite:///{tmp_path / 'vtm.db'}", VTM_TOKEN="s3cret").start()
    try:
        assert server.client.get("/api/mlflow/status").status_code == 401
        r = server.client.get("/api/mlflow/experiments", headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200, r.text
        # A fresh embedded store holds only MLflow's Default experiment.
        assert [e["name"] for e in r.json()["experiments"]] == ["Default"]
    finally:
        server.stop()
        server.client.close()
        kill_everything_of(home)


def test_an_unreachable_mlflow_is_502_and_the_status_says_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    dead = f"http://ops:p4ssw0rd@127.0.0.1:{free_port()}"
    server = Server(
        home,
        f"sqlite:///{tmp_path / 'vtm.db'}",
        VTM_MLFLOW_TRACKING_URI=dead,
        # MLflow's client would otherwise retry a dead server with back-off for minutes.
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    ).start()
    try:
        status = server.client.get("/api/mlflow/status").json()
        assert status["embedded"] is False
        assert status["reachable"] is False
        assert status["trackingUri"] == dead.replace("p4ssw0rd", "***")
        assert status["error"]
        assert "p4ssw0rd" not in status["error"]
        for path in (
            "/experiments",
            "/runs/0123456789abcdef0123456789abcdef",
            "/registered-models",
        ):
            r = server.client.get(f"/api/mlflow{path}")
            assert r.status_code == 502, (path, r.text)
            assert r.json()["error"]["code"] == "upstream_failed"
            assert "p4ssw0rd" not in r.text
    finally:
        server.stop()
        server.client.close()
        kill_everything_of(home)
    assert "p4ssw0rd" not in server.log()


def test_password_redaction() -> None:
    from vtm.redaction import redact_uri, redact_urls

    assert redact_uri("http://u:pw@host:5000/x") == "http://u:***@host:5000/x"
    assert redact_uri("postgresql://u:pw@db/mlflow") == "postgresql://u:***@db/mlflow"
    assert redact_uri("https://host/db?token=abc&x=1") == "https://host/db?token=***&x=1"
    assert redact_uri("http://u@host") == "http://u@host"
    assert redact_uri("sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"
    # The store's URL as `vtm exec` names it in messages.
    assert redact_uri("postgresql+psycopg://vtm:s3cret@db:5432/vtm") == (
        "postgresql+psycopg://vtm:***@db:5432/vtm"
    )
    assert redact_urls("GET http://u:pw@h:1/a failed; retry https://v:x%40y@g/") == (
        "GET http://u:***@h:1/a failed; retry https://v:***@g/"
    )
