"""The child servers of `vtm serve`: a real `mlflow server` over VTM's store and a real
TensorBoard, started beside the API, reported when they fail, gone when the server stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from support import Server, free_port, wait_for
from vtm.integrations.mlflow import ensure_experiment, tracking_client
from vtm.integrations.mlflow.store import init_store
from vtm.integrations.side_server import SideServer, SideServerSpec
from vtm.settings import Settings

# --- SideServer on small real processes -------------------------------------------------------


def spec(tmp_path: Path, code: str, port: int | None = None, **kw: Any) -> SideServerSpec:
    port = port or free_port()
    return SideServerSpec(
        name="toy",
        argv=[sys.executable, "-c", textwrap.dedent(code), str(port)],
        host="127.0.0.1",
        port=port,
        log_path=tmp_path / "logs" / "toy.log",
        env=dict(os.environ),
        **kw,
    )


# Answers HTTP and forks a grandchild into its own process group: stopping must reach both.
SERVE = """
    import http.server, subprocess, sys
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print("grandchild", grandchild.pid, flush=True)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler
                           ).serve_forever()
"""


def group_alive(pgid: int) -> list[int]:
    alive = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(p.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return alive


@pytest.fixture
def children() -> Iterator[list[SideServer]]:
    made: list[SideServer] = []
    yield made
    for child in made:
        child.stop(grace=1)


def test_a_child_that_answers_is_ready_and_stop_ends_its_whole_group(
    tmp_path: Path, children: list[SideServer]
) -> None:
    child = SideServer(spec(tmp_path, SERVE))
    children.append(child)
    child.start()
    wait_for(lambda: child.status().state == "ready", "the toy server to answer")
    assert child.pid is not None
    pgid = child.pid
    wait_for(lambda: len(group_alive(pgid)) == 2, "the child and its grandchild")

    child.stop(grace=5)

    assert child.status().state == "stopped"
    assert child.status().error is None
    assert group_alive(pgid) == []


def test_a_child_that_exits_at_once_is_failed_with_its_last_words(
    tmp_path: Path, children: list[SideServer]
) -> None:
    child = SideServer(spec(tmp_path, "import sys; sys.exit('cannot open the store')"))
    children.append(child)
    child.start()
    status = wait_for(
        lambda: (s := child.status()).state == "failed" and s, "the failure to be seen"
    )
    assert status.error == "exited with code 1 before answering: cannot open the store"
    assert "cannot open the store" in (tmp_path / "logs" / "toy.log").read_text()


def test_a_child_that_never_answers_is_failed_and_killed(
    tmp_path: Path, children: list[SideServer]
) -> None:
    child = SideServer(spec(tmp_path, "import time; time.sleep(600)", ready_timeout=1.0))
    children.append(child)
    child.start()
    assert child.pid is not None
    pgid = child.pid
    status = wait_for(lambda: (s := child.status()).state == "failed" and s, "the deadline")
    assert status.error is not None and "did not answer" in status.error
    wait_for(lambda: group_alive(pgid) == [], "the silent child to be killed")


def test_a_child_that_dies_after_answering_is_failed(
    tmp_path: Path, children: list[SideServer]
) -> None:
    child = SideServer(spec(tmp_path, SERVE))
    children.append(child)
    child.start()
    wait_for(lambda: child.status().state == "ready", "the toy server to answer")
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    status = wait_for(lambda: (s := child.status()).state == "failed" and s, "the death")
    assert status.error is not None and status.error.startswith("was killed by signal 9")
    wait_for(lambda: group_alive(child.pid or 0) == [], "the grandchild to be cleaned up")


def test_a_port_in_use_fails_the_child_without_starting_it(
    tmp_path: Path, children: list[SideServer]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        child = SideServer(spec(tmp_path, SERVE, port=port))
        children.append(child)
        child.start()
        assert child.pid is None
        assert child.status().state == "failed"
        assert child.status().error == f"port {port} on 127.0.0.1 is already in use"


# --- `vtm serve --mlflow-server --tensorboard` --------------------------------------------------


def config(srv: Server) -> dict[str, Any]:
    r = srv.client.get("/api/config")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def service(srv: Server, name: str) -> dict[str, Any]:
    return next(s for s in config(srv)["services"] if s["name"] == name)


def settled(srv: Server, *names: str) -> dict[str, dict[str, Any]] | None:
    states = {s["name"]: s for s in config(srv)["services"]}
    if any(states[n]["state"] == "starting" for n in names):
        return None
    return states


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def test_serve_runs_mlflow_over_vtms_store_and_tensorboard_and_stops_them(
    vtm_home: Path, sqlite_url: str, mlflow_settings: Settings
) -> None:
    # A run logged to the embedded store before the server starts: the MLflow server must
    # read VTM's own store, not one of its own.
    init_store(mlflow_settings)
    experiment_id = ensure_experiment(mlflow_settings, "logged-before")
    mlflow_run = tracking_client(mlflow_settings).create_run(experiment_id).info.run_id
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(vtm_home / "tensorboard" / "20261126-000000-abcdef")) as w:
        w.add_scalar("val_accuracy", 0.5, 1)

    mlflow_port, tb_port = free_port(), free_port()
    srv = Server(
        vtm_home,
        sqlite_url,
        args=("--mlflow-server", "--tensorboard"),
        VTM_MLFLOW_PORT=str(mlflow_port),
        VTM_TENSORBOARD_PORT=str(tb_port),
    ).start()
    try:
        # The API answers at once; the children come up behind it.
        states = wait_for(lambda: settled(srv, "mlflow", "tensorboard"), "both", timeout=180)
        assert states["mlflow"] == {
            "name": "mlflow",
            "url": f"http://127.0.0.1:{mlflow_port}",
            "state": "ready",
            "error": None,
        }, srv.log()
        assert states["tensorboard"]["state"] == "ready", states
        body = config(srv)
        assert body["mlflowUiUrl"] == f"http://127.0.0.1:{mlflow_port}"
        assert body["tensorboardUrl"] == f"http://127.0.0.1:{tb_port}"

        with httpx.Client(base_url=body["mlflowUiUrl"], timeout=30) as mlflow_http:
            found = mlflow_http.post(
                "/api/2.0/mlflow/experiments/search", json={"max_results": 100}
            ).json()
            names = {e["name"]: e for e in found["experiments"]}
            assert "logged-before" in names
            assert names["logged-before"]["artifact_location"].startswith(
                (vtm_home / "mlflow" / "artifacts").as_uri()
            )
            got = mlflow_http.get("/api/2.0/mlflow/runs/get", params={"run_id": mlflow_run})
            assert got.status_code == 200 and got.json()["run"]["info"]["run_id"] == mlflow_run
        # Created with the store, MLflow's Default experiment also keeps artifacts in VTM_HOME.
        assert names["Default"]["artifact_location"].startswith(vtm_home.as_uri())

        with httpx.Client(base_url=body["tensorboardUrl"], timeout=30) as tb_http:
            assert tb_http.get("/").status_code == 200
            wait_for(
                lambda: "20261126-000000-abcdef" in tb_http.get("/data/runs").json(),
                "TensorBoard to list the run's folder",
            )

        assert srv.proc is not None
        processes = descendants(srv.proc.pid)
        commands = [" ".join(p.cmdline()) for p in processes]
        assert any("mlflow server" in c for c in commands), commands
        assert any("tensorboard" in c for c in commands), commands
        assert (vtm_home / "logs" / "mlflow.log").stat().st_size > 0
    finally:
        srv.stop()
        srv.client.close()

    # A clean shutdown (uvicorn re-raises the SIGTERM it handled once it is done).
    assert srv.proc is not None and srv.proc.returncode in (0, -signal.SIGTERM), srv.log()
    assert "Application shutdown complete" in srv.log()
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert alive == [], [p.cmdline() for p in alive]


def test_a_failed_child_is_reported_and_vtm_serves_on(vtm_home: Path, sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        srv = Server(
            vtm_home, sqlite_url, args=("--tensorboard",), VTM_TENSORBOARD_PORT=str(port)
        ).start()
        try:
            tb = wait_for(lambda: settled(srv, "tensorboard"), "the failure")["tensorboard"]
            assert tb["state"] == "failed"
            log_file = vtm_home / "logs" / "tensorboard.log"
            assert tb["error"] == f"port {port} on 127.0.0.1 is already in use (log: {log_file})"
            assert config(srv)["tensorboardUrl"] is None  # no link to a server that is not there
            wait_for(lambda: "tensorboard server failed" in srv.log(), "the error in the log")
            assert str(log_file) in srv.log()
            assert srv.client.get("/api/health").status_code == 200
            run = srv.start_run(epochs=1)
            assert srv.wait_status(run["id"])["status"] == "completed"
        finally:
            srv.stop()
            srv.client.close()


def test_a_child_that_dies_later_is_reported(vtm_home: Path, sqlite_url: str) -> None:
    srv = Server(
        vtm_home, sqlite_url, args=("--tensorboard",), VTM_TENSORBOARD_PORT=str(free_port())
    ).start()
    try:
        wait_for(lambda: service(srv, "tensorboard")["state"] == "ready", "TensorBoard", 90)
        assert srv.proc is not None
        tensorboard = next(
            p for p in descendants(srv.proc.pid) if "tensorboard" in " ".join(p.cmdline())
        )
        tensorboard.kill()
        tb = wait_for(
            lambda: (s := service(srv, "tensorboard"))["state"] == "failed" and s, "the death"
        )
        assert tb["error"].startswith("was killed by signal 9"), tb
        assert config(srv)["tensorboardUrl"] is None
        assert srv.client.get("/api/health").status_code == 200
    finally:
        srv.stop()
        srv.client.close()


def test_no_children_unless_asked(vtm_home: Path, sqlite_url: str) -> None:
    srv = Server(vtm_home, sqlite_url).start()
    try:
        body = config(srv)
        assert (body["services"], body["mlflowUiUrl"], body["tensorboardUrl"]) == ([], None, None)
    finally:
        srv.stop()
        srv.client.close()


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--mlflow-server"], {}), ([], {"VTM_MLFLOW_SERVER": "true"})],
    ids=["flag", "env"],
)
def test_mlflow_server_with_an_external_store_is_refused(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    full_env.update(
        COLUMNS="300",  # one line per message
        VTM_HOME=str(tmp_path / "home"),
        VTM_MLFLOW_TRACKING_URI="http://127.0.0.1:9",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-m", "vtm", "serve", "--port", str(free_port()), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "VTM_MLFLOW_TRACKING_URI names an external one" in result.stderr
    assert "http://127.0.0.1:9" not in result.stderr  # an external URI may carry credentials
