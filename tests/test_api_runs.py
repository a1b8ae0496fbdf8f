"""The run life cycle through a real `vtm serve` and real trainer processes."""

from __future__ import annotations

import json

import pytest

from support import Server, processes_with_env, wait_for


@pytest.fixture
def server(shared_server: Server) -> Server:
    """These tests start runs and read their own back: the module's server. The list's own
    tests, which look at every run a server holds, are in test_api_list.py."""
    return shared_server


def test_run_completes_with_final_progress_meta_and_log_tail(server: Server) -> None:
    run = server.start_run(epochs=4, meta_id="mlflow-abc123")
    assert run["status"] in ("queued", "running")
    assert run["taskId"] == "scripted"
    assert run["fields"]["epochs"] == 4

    done = server.wait_status(run["id"])

    assert done["status"] == "completed"
    assert done["exitCode"] == 0
    assert done["progress"]["epoch"] == done["progress"]["total_epochs"] == 4
    assert done["progress"]["val_accuracy"] == 1.0
    assert done["mlflowRunId"] == "mlflow-abc123"
    assert done["logs"][-1] == "done"
    assert "line 4" in done["logs"]
    assert done["startedAt"] and done["finishedAt"]
    assert done["error"] is None


def test_nonzero_exit_is_failed_with_the_code(server: Server) -> None:
    run = server.start_run(epochs=1, exit_code=3)
    done = server.wait_status(run["id"])
    assert done["status"] == "failed"
    assert done["exitCode"] == 3
    assert "3" in done["error"]


def test_stop_gives_stopped(server: Server, tmp_path) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    run = server.start_run(epochs=3, gate_dir=str(gates), pause_at=1)
    server.wait_epoch(run["id"], 1)

    r = server.client.post(f"/api/runs/{run['id']}/stop")
    assert r.status_code == 200
    done = server.wait_status(run["id"])
    assert done["status"] == "stopped"
    again = server.client.post(f"/api/runs/{run['id']}/stop")
    assert again.status_code == 200 and again.json()["status"] == "stopped"


def test_stop_of_stubborn_trainer_leaves_no_process(server: Server) -> None:
    run = server.start_run("stubborn")
    server.wait_epoch(run["id"], 0)
    pids_line = wait_for(
        lambda: next(
            (line for line in server.run(run["id"])["logs"] if line.startswith("child-pids::")),
            None,
        ),
        "the trainer to report its children",
    )
    children = [int(p) for p in pids_line.split("::")[1].split(",")]
    assert processes_with_env(f"VTM_RUN_ID={run['id']}")

    server.client.post(f"/api/runs/{run['id']}/stop")
    done = server.wait_status(run["id"])

    assert done["status"] == "stopped"
    assert processes_with_env(f"VTM_RUN_ID={run['id']}") == []
    for pid in children:
        assert pid not in processes_with_env(f"VTM_RUN_ID={run['id']}")


def test_values_reach_the_trainer_verbatim_as_one_argv_element(server: Server) -> None:
    hostile = "-rf; rm x $(touch pwned) `id` 'q' \"dq\""
    run = server.start_run(epochs=1, text=hostile, loud=True, lr=0.001)
    done = server.wait_status(run["id"])
    assert done["status"] == "completed"
    argv_line = next(
        line
        for line in server.full_log(run["id"]).decode().splitlines()
        if line.startswith("argv::")
    )
    argv = json.loads(argv_line[len("argv::") :])
    assert f"--text={hostile}" in argv
    assert "--loud" in argv
    assert "--lr=0.001" in argv
    assert done["command"][2:] == argv


def test_trainer_environment(server: Server) -> None:
    run = server.start_run(epochs=1)
    done = server.wait_status(run["id"])
    env_line = next(
        line
        for line in server.full_log(run["id"]).decode().splitlines()
        if line.startswith("env::")
    )
    env = json.loads(env_line[len("env::") :])
    assert env["VTM_RUN_ID"] == run["id"]
    assert env["VTM_RUN_DIR"] == str(server.home / "runs" / run["id"])
    assert env["VTM_TENSORBOARD_DIR"] == str(server.home / "tensorboard" / run["id"])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert "VTM_DATABASE_URL" not in env and "VTM_TOKEN" not in env
    assert done["status"] == "completed"


def test_metrics_series(server: Server) -> None:
    run = server.start_run(epochs=3)
    server.wait_status(run["id"])
    body = server.client.get(f"/api/runs/{run['id']}/metrics").json()
    series = body["series"]["val_accuracy"]
    assert [p["step"] for p in series] == [1, 2, 3]
    assert [round(p["value"], 4) for p in series] == [0.3333, 0.6667, 1.0]
    assert "epoch" not in body["series"] and "device" not in body["series"]


def test_logs_are_paged_in_full(server: Server) -> None:
    run = server.start_run(epochs=2, lines=5000)
    server.wait_status(run["id"])
    text, offset = "", 0
    while True:
        page = server.client.get(
            f"/api/runs/{run['id']}/logs", params={"offset": offset, "limit": 10000}
        ).json()
        text += page["text"]
        offset = page["nextOffset"]
        if page["complete"]:
            break
    assert text.encode() == server.full_log(run["id"])
    numbered = [line for line in text.splitlines() if line.startswith("line ")]
    assert numbered == [f"line {i}" for i in range(1, 10001)]


def test_web_routes_and_unknown_api_paths(server: Server) -> None:
    page = server.client.get("/runs/20260101-000000-abcdef")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    missing = server.client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    config = server.client.get("/api/config").json()
    assert config["mlflowUiUrl"] is None
    assert config["version"]
