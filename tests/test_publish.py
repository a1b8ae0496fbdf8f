"""Best-model publish against a real MLflow registry (the embedded SQLite store of the test's
VTM home), a real FTP server (pyftpdlib on loopback) and runs made by a real `vtm serve`
running tests/trainers/tiny_model.py."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from ftp_support import NO_RENAME, CorruptingHandler, DroppingHandler, FtpTestServer, User
from support import TEST_CATALOG, Server, copy_mlflow_store, free_port
from vtm.catalog import load_catalog
from vtm.errors import NotFound, UpstreamError
from vtm.integrations.mlflow import ensure_experiment, tracking_client
from vtm.integrations.mlflow.store import init_store
from vtm.publish import PublishRequest, publish
from vtm.publish.selection import link_runs
from vtm.settings import Settings
from vtm.store import RunRepository, create_db_engine

TASK = "tiny-model"
MODEL = "tiny-registered"  # the task's mlflow.registeredModel in tests/trainers/catalog.yaml
PASSWORD = "pa55-w0rd:secret"
ALICE = User("alice", PASSWORD)
BOB = User("bob", "b0b-only-stores", NO_RENAME)  # may store and delete, not rename


# -- helpers ----------------------------------------------------------------------------------


def prepare_mlflow(home: Path) -> Settings:
    """The embedded store (the session's copied in) with the task's experiment, as the
    trainers expect to find it."""
    copy_mlflow_store(home)
    settings = Settings(home=home, catalog=TEST_CATALOG)
    init_store(settings)
    ensure_experiment(settings, TASK)
    return settings


def run_all(server: Server, *fields: dict[str, Any]) -> list[dict[str, Any]]:
    started = [server.start_run(TASK, **f) for f in fields]
    return [server.wait_status(r["id"], timeout=120) for r in started]


def registry_state(settings: Settings) -> tuple[list[tuple[int, str, dict[str, str]]], dict]:
    """(version, MLflow run id, tags) of each version of MODEL, and its aliases."""
    client = tracking_client(settings)
    if not client.search_registered_models(filter_string=f"name = '{MODEL}'"):
        return [], {"<no registered model>": 0}
    aliases = {a: int(v) for a, v in client.get_registered_model(MODEL).aliases.items()}
    versions = sorted(
        (int(v.version), v.run_id, dict(v.tags))
        for v in client.search_model_versions(f"name = '{MODEL}'")
    )
    return versions, aliases


def model_artifacts(settings: Settings, mlflow_run_id: str) -> dict[str, tuple[int, str]]:
    """name → (size, sha256) of the run's logged model's files, read from MLflow's store."""
    client = tracking_client(settings)
    run = client.get_run(mlflow_run_id)
    (output,) = run.outputs.model_outputs
    location = client.get_logged_model(output.model_id).artifact_location
    root = Path(unquote(urlparse(location).path))
    return {
        p.relative_to(root).as_posix(): (
            p.stat().st_size,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in root.rglob("*")
        if p.is_file()
    }


def tagged_run(settings: Settings, vtm_run_id: str) -> str:
    client = tracking_client(settings)
    experiment = client.get_experiment_by_name(TASK)
    assert experiment is not None
    (run,) = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`vtm.run_id` = '{vtm_run_id}'"
    )
    return str(run.info.run_id)


def folder_files(ftp: FtpTestServer, folder: str) -> dict[str, tuple[int, str]]:
    prefix = folder.strip("/") + "/"
    return {
        name[len(prefix) :]: (size, sha)
        for name, (size, sha, _mtime) in ftp.files().items()
        if name.startswith(prefix)
    }


def no_partial_files(ftp: FtpTestServer) -> None:
    leftovers = [name for name in ftp.files() if ".part-" in name]
    assert leftovers == [], leftovers


def api_publish(server: Server, **body: Any) -> Any:
    return server.client.post("/api/publish", json={"task": TASK, **body}, timeout=120)


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[FtpTestServer]:
    srv = FtpTestServer(tmp_path / "ftp-home", [ALICE, BOB]).start()
    yield srv
    srv.stop()


# -- the whole story, on both databases -------------------------------------------------------


def test_publish_chooses_the_best_run_registers_and_uploads_it(
    vtm_home: Path, database_url: str, ftp_server: FtpTestServer, tmp_path: Path
) -> None:
    settings = prepare_mlflow(vtm_home)
    server = Server(vtm_home, database_url, VTM_FTP_URL=ftp_server.url(ALICE)).start()
    try:
        a, b, c, d, e = run_all(
            server,
            # Best history (1.2 at epoch 1) but final 0.7: only the final value counts.
            {"value": 0.7, "spike": 0.5, "loss": 0.2},
            {"value": 0.9, "loss": 0.5},
            {"value": 0.8, "loss": 0.1, "no_meta": True},  # linked by its vtm.run_id tag only
            {"value": 0.99, "exit_code": 3},  # failed: never a candidate
            {"value": 0.95, "no_model": True},  # no model: skipped
        )
        assert [r["status"] for r in (a, b, c, d, e)] == [*["completed"] * 3, "failed", "completed"]
        assert b["mlflowRunId"]

        # 1. The best completed run with a model, by the primary metric (val_accuracy, max).
        r = api_publish(server)
        assert r.status_code == 200, r.text
        first = r.json()
        assert first["vtmRunId"] == b["id"]
        assert first["mlflowRunId"] == b["mlflowRunId"]
        assert first["metric"] == {"name": "val_accuracy", "goal": "max", "value": 0.9}
        assert (first["registeredModel"], first["version"], first["alias"]) == (
            MODEL,
            1,
            "champion",
        )
        assert first["alreadyPublished"] is False
        assert PASSWORD not in r.text
        assert first["ftp"]["url"] == f"ftp://alice:***@127.0.0.1:{ftp_server.port}/registry"
        assert first["ftp"]["folder"] == f"/registry/{MODEL}/1"

        versions, aliases = registry_state(settings)
        assert [(v, run) for v, run, _ in versions] == [(1, b["mlflowRunId"])]
        assert versions[0][2]["vtm.run_id"] == b["id"]
        assert aliases == {"champion": 1}

        # The files on the FTP server are the logged model's, byte for byte, and the card last.
        artifacts = model_artifacts(settings, b["mlflowRunId"])
        assert "MLmodel" in artifacts and "artifacts/weights.json" in artifacts
        on_server = folder_files(ftp_server, first["ftp"]["folder"])
        assert {k: v for k, v in on_server.items() if k != "model_card.json"} == artifacts
        listed = {f["name"]: (f["size"], f["sha256"]) for f in first["ftp"]["files"]}
        assert listed == on_server
        assert first["ftp"]["files"][-1]["name"] == "model_card.json"
        no_partial_files(ftp_server)

        card = json.loads((ftp_server.home / f"registry/{MODEL}/1/model_card.json").read_text())
        assert card["task"] == TASK
        assert (card["vtmRunId"], card["mlflowRunId"]) == (b["id"], b["mlflowRunId"])
        assert card["modelUri"] == first["modelUri"]
        assert first["modelUri"].startswith("models:/m-")
        assert (card["registeredModel"], card["version"], card["alias"]) == (MODEL, 1, "champion")
        assert card["metric"] == {"name": "val_accuracy", "goal": "max", "value": 0.9}
        assert card["params"]["value"] == "0.9"
        assert card["metrics"]["val_accuracy"] == 0.9
        assert {f["name"]: (f["size"], f["sha256"]) for f in card["files"]} == artifacts
        datetime.fromisoformat(card["publishedAt"])

        # 2. The same again: nothing changes, not even a file's modification time.
        before = ftp_server.files()
        again = api_publish(server)
        assert again.status_code == 200, again.text
        assert again.json()["alreadyPublished"] is True
        assert again.json()["version"] == 1
        assert again.json()["ftp"]["files"] == first["ftp"]["files"]
        assert ftp_server.files() == before
        assert registry_state(settings) == (versions, aliases)

        # 3. goal=min: the lowest final val_accuracy, as a new version; the alias moves.
        low = api_publish(server, goal="min")
        assert low.status_code == 200, low.text
        assert (low.json()["vtmRunId"], low.json()["version"]) == (a["id"], 2)
        versions, aliases = registry_state(settings)
        assert [(v, run) for v, run, _ in versions] == [
            (1, b["mlflowRunId"]),
            (2, a["mlflowRunId"]),
        ]
        assert aliases == {"champion": 2}

        # 4. FTP down: a clear error, the registry and the server's folders untouched.
        before = ftp_server.files()
        ftp_server.stop()
        down = api_publish(server, metric="val_loss", goal="min", alias="low-loss")
        assert down.status_code == 502, down.text
        error = down.json()["error"]
        assert error["code"] == "upstream_failed"
        assert "FTP registry" in error["message"] and "could not reach" in error["message"]
        assert f"ftp://alice:***@127.0.0.1:{ftp_server.port}/registry" in error["message"]
        assert PASSWORD not in down.text and PASSWORD not in server.log()
        assert registry_state(settings) == (versions, aliases)
        assert ftp_server.files() == before

        # 5. Back up (same port): `vtm publish` does it end to end, through the API.
        ftp_server = FtpTestServer(ftp_server.home, [ALICE], port=ftp_server.port).start()
        try:
            args = ["--metric", "val_loss", "--goal", "min", "--alias", "low-loss"]
            cli = subprocess.run(
                [sys.executable, "-m", "vtm", "publish", TASK, *args, "--url", server.url],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "COLUMNS": "200"},  # one summary line, not wrapped
            )
            assert cli.returncode == 0, cli.stdout + cli.stderr
            assert f"{MODEL} version 3" in cli.stdout and c["id"] in cli.stdout
            assert "model_card.json" in cli.stdout and PASSWORD not in cli.stdout
            versions, aliases = registry_state(settings)
            assert versions[-1][:2] == (3, tagged_run(settings, c["id"]))
            assert aliases == {"champion": 2, "low-loss": 3}
            no_partial_files(ftp_server)

            missing = subprocess.run(
                [sys.executable, "-m", "vtm", "publish", "no-such-task", "--url", server.url],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert missing.returncode != 0
            assert "unknown task 'no-such-task'" in missing.stderr
        finally:
            ftp_server.stop()
    finally:
        server.stop()
        server.client.close()


# -- failures and edge cases (one database: nothing here depends on it) -----------------------


def test_a_failed_upload_leaves_no_file_and_no_registry_change(
    vtm_home: Path, sqlite_url: str, ftp_server: FtpTestServer, tmp_path: Path
) -> None:
    settings = prepare_mlflow(vtm_home)
    server = Server(vtm_home, sqlite_url, VTM_FTP_URL=ftp_server.url(BOB)).start()
    try:
        good, no_model = run_all(
            server, {"value": 0.8}, {"value": 0.9, "loss": 0.3, "no_model": True}
        )
        assert good["status"] == no_model["status"] == "completed"

        # The renames are refused after the first file went up: everything is taken back,
        # including the registered model this publish created.
        r = api_publish(server)
        assert r.status_code == 502, r.text
        message = r.json()["error"]["message"]
        assert "FTP registry ftp://bob:***@" in message and "rename" in message
        assert BOB.password not in r.text and BOB.password not in server.log()
        assert registry_state(settings) == ([], {"<no registered model>": 0})
        assert ftp_server.files() == {} and ftp_server.folders() == []

        # The rest runs in this process, on the same store, with other FTP settings.
        repo = RunRepository(create_db_engine(sqlite_url))
        catalog = load_catalog(TEST_CATALOG).catalog

        def publish_with(ftp_url: str | None, **request: Any) -> Any:
            s = Settings(
                home=vtm_home, catalog=TEST_CATALOG, database_url=sqlite_url, ftp_url=ftp_url
            )
            return publish(s, catalog, repo, PublishRequest(task=TASK, **request))

        wrong = ftp_server.url(ALICE, password="not-" + PASSWORD)
        with pytest.raises(UpstreamError, match="login refused for user 'alice'") as refused:
            publish_with(wrong)
        assert "not-" + PASSWORD not in str(refused.value)

        closed = f"ftp://alice:{PASSWORD}@127.0.0.1:{free_port()}/registry"
        with pytest.raises(UpstreamError, match="could not reach") as unreachable:
            publish_with(closed)
        assert PASSWORD not in str(unreachable.value)

        corrupting = FtpTestServer(tmp_path / "bad-disk", [ALICE], handler=CorruptingHandler)
        corrupting.start()
        try:
            with pytest.raises(UpstreamError, match="read back as") as mismatch:
                publish_with(corrupting.url(ALICE))
            assert PASSWORD not in str(mismatch.value)
            assert corrupting.files() == {} and corrupting.folders() == []
        finally:
            corrupting.stop()
        # The session dies in the middle: a new one removes what the attempt left.
        dropping = FtpTestServer(tmp_path / "dropping", [ALICE], handler=DroppingHandler)
        dropping.start()
        try:
            with pytest.raises(UpstreamError, match="could not rename"):
                publish_with(dropping.url(ALICE))
            assert dropping.files() == {} and dropping.folders() == []
        finally:
            dropping.stop()
        assert registry_state(settings) == ([], {"<no registered model>": 0})

        # Why nothing can be published, each said.
        with pytest.raises(NotFound, match="has a logged model"):
            publish_with(None, metric="val_loss", goal="min")
        with pytest.raises(NotFound, match="logged metric 'f1'"):
            publish_with(None, metric="f1", goal="max")

        # Without VTM_FTP_URL: the registry only, and the response says so.
        only = publish_with(None)
        assert (only.vtm_run_id, only.version, only.ftp) == (good["id"], 1, None)
        assert any("VTM_FTP_URL is not set" in n for n in only.notes)
        assert publish_with(None).already_published is True

        # Then with FTP: the version is reused and the files go up; once.
        full = publish_with(ftp_server.url(ALICE))
        assert (full.version, full.already_published) == (1, False)
        assert any("reused" in n for n in full.notes)
        assert folder_files(ftp_server, full.ftp.folder).keys() == {f.name for f in full.ftp.files}
        assert publish_with(ftp_server.url(ALICE)).already_published is True
        assert [v for v, _, _ in registry_state(settings)[0]] == [1]

        # A run whose trainer reported no MLflow run id is found by its vtm.run_id tag.
        stored = repo.get(good["id"])
        untold = dataclasses.replace(stored, mlflow_run_id=None)
        [(_, found)] = link_runs(tracking_client(settings), TASK, [untold])
        assert found.info.run_id == good["mlflowRunId"]
    finally:
        server.stop()
        server.client.close()


def test_publish_requests_are_checked_before_anything_happens(server: Server) -> None:
    def error(body: dict[str, Any]) -> tuple[int, str]:
        r = server.client.post("/api/publish", json=body)
        return r.status_code, r.json()["error"]["message"]

    assert error({"task": "nope"}) == (404, "unknown task 'nope'")
    status, message = error({"task": TASK, "metric": "val_loss"})
    assert status == 422 and message.startswith("goal:")
    status, message = error({"task": TASK, "since": "soon"})
    assert status == 422 and message.startswith("since:")
    status, message = error({"task": TASK, "alias": "latest"})
    assert status == 422 and "reserved" in message
    status, message = error({"task": TASK, "goal": "up"})
    assert status == 422 and message.startswith("goal:")
    status, message = error({"task": TASK, "since": "7d"})
    assert status == 404 and "no completed run of task 'tiny-model' in the last 7d" in message
