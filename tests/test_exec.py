"""`vtm exec`: a catalog task run in the foreground on "a worker", recorded in VTM.

Real processes throughout: `vtm exec` as a subprocess with its own home (the worker's), the
test trainers under the real supervisor, a real `vtm serve` to record to (SQLite and
PostgreSQL), signals, psutil to prove nothing of a run is left.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from vtm_testkit import airflow_home
from vtm_testkit.exec_spare import ExecSpare, copy_pid

import vtm
from airflow_support import AIRFLOW_BIN
from support import (
    TEST_CATALOG,
    Server,
    processes_with_env,
    vtm_home_at,
    wait_for,
)
from vtm.exec.recorder import Outcome
from vtm.runs.origin import airflow_from_env
from vtm.states import RunStatus
from vtm.store import RunRepository, create_db_engine

AIRFLOW_TRY = {
    "AIRFLOW_CTX_DAG_ID": "digits-nightly",
    "AIRFLOW_CTX_DAG_RUN_ID": "scheduled__2026-11-25T02:00:00+00:00",
    "AIRFLOW_CTX_TASK_ID": "train",
    "AIRFLOW_CTX_LOGICAL_DATE": "2026-11-25T02:00:00+00:00",
}


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Path]:
    """The home `vtm exec` runs with: another machine's, as far as VTM can tell."""
    yield from vtm_home_at(tmp_path / "worker")


def exec_env(worker: Path, server: Server | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VTM_", "AIRFLOW_CTX_", "MLFLOW_TRACKING"))
    }
    env.update(
        VTM_HOME=str(worker),
        VTM_CATALOG=str(TEST_CATALOG),
        VTM_STOP_GRACE_SECONDS="1",
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    if server is not None:
        env["VTM_URL"] = server.url
    env.update(extra)
    return env


def start_exec(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vtm", "exec", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


def run_exec(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = start_exec(env, *args)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(), err.decode()


def the_run(server: Server) -> dict[str, Any]:
    """The one run on the server, once it is there."""

    def probe() -> dict[str, Any] | None:
        runs = server.client.get("/api/runs").json()["runs"]
        return runs[0] if runs else None

    run: dict[str, Any] = wait_for(probe, "the exec run to be registered")
    return run


def full_log(server: Server, run_id: str) -> str:
    page = server.client.get(f"/api/runs/{run_id}/logs", params={"limit": 4 << 20}).json()
    assert page["nextOffset"] == page["size"]
    text: str = page["text"]
    return text


def nothing_left_of(worker: Path, run_id: str, err: str = "") -> None:
    wait_for(lambda: processes_with_env(f"VTM_RUN_ID={run_id}") == [], "no trainer process")
    wait_for(lambda: processes_with_env(f"VTM_HOME={worker}") == [], "no process of the worker")
    copy_ended(err)


def copy_ended(err: str) -> None:
    """The spare's copy that ran the command (if one did) has ended: it shows the spare's
    environment, not its caller's, so it is found by the pid its caller printed."""
    if (pid := copy_pid(err)) is not None:
        wait_for(lambda: not _alive(pid), f"the spare's copy {pid} to end")


# -- started cold, or handed to a spare `vtm exec` ------------------------------------------


@pytest.fixture
def spare(tmp_path: Path) -> Iterator[Path]:
    """A `vtm exec-spare` waiting for commands; its socket's path."""
    path = tmp_path / "spare.sock"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    with ExecSpare([sys.executable, "-m", "vtm"], path, tmp_path / "spare.log", env):
        yield path


@pytest.fixture(params=["cold", "spare"])
def start_kind(request: pytest.FixtureRequest) -> dict[str, str]:
    """The extra environment of a `vtm exec` started cold, or handed to a spare."""
    if request.param == "cold":
        return {}
    return {"VTM_EXEC_SPARE": str(request.getfixturevalue("spare"))}


def started_as(start_kind: dict[str, str], err: str) -> None:
    """The command started the way the test asked."""
    assert (copy_pid(err) is not None) == bool(start_kind), err


# -- recorded on a server -------------------------------------------------------------------


@pytest.mark.both_databases
def test_the_run_is_on_the_server_live_and_in_full(
    server: Server, worker: Path, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    events: list[tuple[str, dict[str, Any]]] = []
    listening = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=server.url, timeout=60) as client,
            client.stream("GET", "/api/events") as response,
        ):
            kind = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                    listening.set()
                elif line.startswith("data: ") and kind.startswith("run."):
                    events.append((kind, json.loads(line[6:])))
                    if kind == "run.finished":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert listening.wait(30)
    args = ["scripted", "--set", "epochs=3", "--set", "lines=2", "--set", "meta_id=m-7"]
    proc = start_exec(
        exec_env(worker, server), *args, "--set", f"gate_dir={gates}", "--set", "pause_at=2"
    )

    # Live: while the trainer waits at its gate, the server shows it running at epoch 2.
    run = the_run(server)
    live = server.wait_epoch(run["id"], 2)
    assert live["status"] == "running"
    assert live["progress"]["val_accuracy"] == pytest.approx(2 / 3)
    assert live["logs"][-1].startswith("VTM_PROGRESS::")
    (gates / run["id"]).touch()
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 0, err
    done = server.run(run["id"])
    assert done["status"] == "completed"
    assert done["exitCode"] == 0
    assert done["taskId"] == "scripted"
    assert done["fields"]["epochs"] == 3 and done["fields"]["lines"] == 2
    assert done["progress"] == {
        "epoch": 3,
        "total_epochs": 3,
        "val_accuracy": 1.0,
        "device": "cpu",
    }
    assert done["mlflowRunId"] == "m-7"
    assert done["origin"] == {
        "kind": "exec",
        "host": socket.gethostname(),
        "airflow": None,
        "previousTryRunId": None,
    }
    # The server's log is exactly what `vtm exec` printed: the trainer's output, every byte.
    assert full_log(server, run["id"]) == out.decode()
    assert out.decode().count("line ") == 6 and out.decode().endswith("done\n")
    assert done["lineCount"] == out.decode().count("\n")
    assert done["logs"][-1] == "done"
    series = server.client.get(f"/api/runs/{run['id']}/metrics").json()["series"]
    assert [p["step"] for p in series["val_accuracy"]] == [1, 2, 3]
    assert f"run {run['id']} completed" in err.decode()
    # Its `vtm exec` events came through the server's stream like any run's.
    listener.join(30)
    kinds = [kind for kind, record in events if record["id"] == run["id"]]
    assert kinds[0] == "run.created" and kinds[-1] == "run.finished"
    assert "run.updated" in kinds
    nothing_left_of(worker, run["id"])


def test_an_airflow_retry_links_to_the_failed_try(server: Server, worker: Path) -> None:
    first_try = exec_env(worker, server, **AIRFLOW_TRY, AIRFLOW_CTX_TRY_NUMBER="1")
    code, _, err = run_exec(first_try, "scripted", "--set", "epochs=1", "--set", "exit_code=3")

    assert code == 3, err  # the trainer's code: Airflow sees the failure and retries
    first = the_run(server)
    assert first["status"] == "failed"
    assert first["exitCode"] == 3
    # The cause is the trainer's last line (runs/failure.py), then how it ended.
    assert first["error"] == "giving up with code 3 (exited with code 3)"

    second_try = exec_env(worker, server, **AIRFLOW_TRY, AIRFLOW_CTX_TRY_NUMBER="2")
    code, _, err = run_exec(second_try, "scripted", "--set", "epochs=1")

    assert code == 0, err
    second = server.client.get("/api/runs").json()["runs"][0]
    assert second["id"] != first["id"]
    assert second["status"] == "completed"
    assert second["origin"] == {
        "kind": "exec",
        "host": socket.gethostname(),
        "airflow": {
            "dagId": "digits-nightly",
            "runId": "scheduled__2026-11-25T02:00:00+00:00",
            "taskId": "train",
            "tryNumber": 2,
            "mapIndex": -1,
            "logicalDate": "2026-11-25T02:00:00+00:00",
            "queue": None,  # a BashOperator's environment does not say (the exec operator's does)
            "hostname": None,
        },
        "previousTryRunId": first["id"],
    }


def test_sigterm_stops_the_trainer_and_its_children(
    server: Server, worker: Path, start_kind: dict[str, str]
) -> None:
    # stubborn ignores SIGTERM and has two children that do too: only SIGKILL ends them.
    proc = start_exec(exec_env(worker, server, **start_kind), "stubborn")
    run = the_run(server)
    server.wait_epoch(run["id"], 0)
    log = full_log(server, run["id"])
    children = [int(p) for p in log.split("child-pids::")[1].split()[0].split(",")]
    assert all(psutil.pid_exists(pid) for pid in children)

    proc.send_signal(signal.SIGTERM)  # what Airflow's on_kill and a pod's end send
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 128 + signal.SIGKILL, err.decode()
    done = server.run(run["id"])
    assert done["status"] == "stopped"
    assert done["error"] == "stopped on request"
    assert "stopping run" in err.decode()
    started_as(start_kind, err.decode())
    for pid in children:
        wait_for(lambda pid=pid: not _alive(pid), f"child {pid} to be gone")
    nothing_left_of(worker, run["id"], err.decode())


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_stop_asked_on_the_server_stops_the_exec(
    server: Server, worker: Path, tmp_path: Path, start_kind: dict[str, str]
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    args = ["scripted", "--set", f"gate_dir={gates}", "--set", "pause_at=1"]
    proc = start_exec(exec_env(worker, server, **start_kind), *args)
    run = the_run(server)
    server.wait_epoch(run["id"], 1)

    assert server.client.post(f"/api/runs/{run['id']}/stop").status_code == 200
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 128 + signal.SIGTERM, err.decode()
    started_as(start_kind, err.decode())
    assert server.wait_status(run["id"])["status"] == "stopped"
    nothing_left_of(worker, run["id"], err.decode())


def test_bad_fields_exit_2_naming_each_and_start_nothing(
    server: Server, worker: Path, start_kind: dict[str, str]
) -> None:
    env = exec_env(worker, server, **start_kind)
    code, out, err = run_exec(env, "scripted", "--set", "epochs=0", "--set", "nope=1")

    assert code == 2
    started_as(start_kind, err)
    assert "epochs: must be at least 1" in err
    assert "nope: unknown field" in err
    assert out == ""
    assert run_exec(env, "no-such-task")[0] == 2
    assert run_exec(env, "scripted", "--set", "epochs")[0] == 2
    assert server.client.get("/api/runs").json()["runs"] == []
    assert not (worker / "exec").exists()


def trainer_env(out: str) -> dict[str, str]:
    """The environment the scripted trainer reported, but for what differs run to run."""
    line = next(x for x in out.splitlines() if x.startswith("env::"))
    env: dict[str, str] = json.loads(line.removeprefix("env::"))
    run_id = env.pop("VTM_RUN_ID")
    env.pop("VTM_EXEC_SPARE", None)
    return {k: v.replace(run_id, "<run id>") for k, v in env.items()}


def test_a_command_handed_to_a_spare_runs_as_a_cold_one(
    server: Server, worker: Path, spare: Path
) -> None:
    args = ["scripted", "--set", "epochs=2", "--set", "lines=3"]
    cold = run_exec(exec_env(worker, server), *args)
    warm = run_exec(exec_env(worker, server, VTM_EXEC_SPARE=str(spare)), *args)
    failing = run_exec(
        exec_env(worker, server, VTM_EXEC_SPARE=str(spare)), *args, "--set", "exit_code=3"
    )

    assert cold[0] == warm[0] == 0, (cold[2], warm[2])
    assert failing[0] == 3, failing[2]  # the trainer's exit code, as a cold start gives it
    started_as({}, cold[2])
    started_as({"VTM_EXEC_SPARE": str(spare)}, warm[2])
    # The trainer sees its caller's environment, not the spare's.
    assert trainer_env(warm[1]) == trainer_env(cold[1])
    assert trainer_env(warm[1])["VTM_HOME"] == str(worker)
    failed_run, warm_run, cold_run = server.client.get("/api/runs").json()["runs"]  # newest first
    for run, (_, out, _) in ((cold_run, cold), (warm_run, warm)):
        assert run["status"] == "completed"
        assert run["progress"]["epoch"] == 2
        assert full_log(server, run["id"]) == out  # every byte the caller printed
        assert run["origin"]["kind"] == "exec"
    assert failed_run["status"] == "failed" and failed_run["exitCode"] == 3
    for _, _, err in (warm, failing):
        copy_ended(err)


def test_a_killed_caller_has_its_run_stopped_by_the_spare(
    server: Server, worker: Path, spare: Path, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    args = ["scripted", "--set", f"gate_dir={gates}", "--set", "pause_at=1"]
    proc = start_exec(exec_env(worker, server, VTM_EXEC_SPARE=str(spare)), *args)
    run = the_run(server)
    server.wait_epoch(run["id"], 1)

    proc.kill()  # kill -9 of the caller: Ray's or Airflow's last resort
    _, err = proc.communicate(timeout=60)  # ends when the copy, holding the pipes too, does

    # The copy saw its caller go, stopped the trainer and told the server.
    assert server.wait_status(run["id"], timeout=30)["status"] == "stopped"
    nothing_left_of(worker, run["id"], err.decode())
    assert copy_pid(err.decode()) is not None


def test_a_spare_refuses_once_vtms_code_changed_and_exits(worker: Path, tmp_path: Path) -> None:
    # A copy of VTM's code, imported by the spare and its callers alike, changed under them.
    code = tmp_path / "code"
    shutil.copytree(Path(vtm.__file__).parent, code / "vtm", ignore=shutil.ignore_patterns("web"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    env["PYTHONPATH"] = str(code)
    path = tmp_path / "spare.sock"
    caller = {**exec_env(worker, None, VTM_EXEC_SPARE=str(path)), "PYTHONPATH": str(code)}
    with ExecSpare([sys.executable, "-m", "vtm"], path, tmp_path / "spare.log", env) as spare:
        first = run_exec(caller, "scripted", "--set", "epochs=1")
        assert first[0] == 0 and copy_pid(first[2]) is not None, first[2]
        changed = code / "vtm" / "states.py"
        stat = changed.stat()
        os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

        second = run_exec(caller, "scripted", "--set", "epochs=1")

        assert second[0] == 0, second[2]  # started cold instead
        assert copy_pid(second[2]) is None
        assert "refused the command (VTM's code changed since the spare started)" in second[2]
        assert spare.proc is not None
        assert spare.proc.wait(30) == 0
        assert not path.exists()


def test_losing_the_server_mid_run_does_not_stop_training(
    server: Server, worker: Path, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    args = ["scripted", "--set", "epochs=3", "--set", f"gate_dir={gates}", "--set", "pause_at=1"]
    proc = start_exec(exec_env(worker, server), *args)
    run = the_run(server)
    server.wait_epoch(run["id"], 1)

    server.kill9()
    (gates / run["id"]).touch()  # the trainer finishes while no server is there
    exec_dir = worker / "exec" / run["id"]
    wait_for(lambda: (exec_dir / "exit.json").exists(), "the trainer to end")
    assert proc.poll() is None  # still trying to deliver the rest
    back = Server(server.home, server.database_url, port=server.port).start()
    try:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert "lost the VTM server" in err.decode()
        assert "training goes on" in err.decode()
        assert "is back" in err.decode()
        done = back.run(run["id"])
        assert done["status"] == "completed"
        assert done["progress"]["epoch"] == 3
        assert full_log(back, run["id"]) == out.decode()
        assert done["lineCount"] == out.decode().count("\n")
    finally:
        back.stop()
        back.client.close()


@pytest.mark.both_databases
def test_a_silent_exec_run_is_failed_as_lost(
    vtm_home: Path, database_url: str, worker: Path, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    server = Server(vtm_home, database_url, VTM_EXEC_HEARTBEAT_TIMEOUT_SECONDS="3").start()
    try:
        args = ["scripted", "--set", f"gate_dir={gates}", "--set", "pause_at=1"]
        proc = start_exec(exec_env(worker, server), *args)
        run = the_run(server)
        server.wait_epoch(run["id"], 1)

        proc.kill()  # kill -9: `vtm exec` can tell nobody
        proc.communicate(timeout=30)

        # Its supervisor, tied to it, stops the trainer; the server notices the silence.
        nothing_left_of(worker, run["id"])
        lost = server.wait_status(run["id"], timeout=30)
        assert lost["status"] == "failed"
        assert lost["error"].startswith(f"lost: vtm exec on {socket.gethostname()}")
        exit_record = json.loads((worker / "exec" / run["id"] / "exit.json").read_text())
        assert exit_record["status"] == "stopped"
    finally:
        server.stop()
        server.client.close()


# -- under a real Airflow 3 -------------------------------------------------------------------

AIRFLOW_PYTHON = AIRFLOW_BIN / "python"
EXEC_DAGS = Path(__file__).resolve().parent / "exec_dags"
# In a home whose database the test kit migrated (once per session).
RUN_DAGS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
print("STATES " + json.dumps({d: str(bag.dags[d].test().state) for d in sys.argv[2:]}))
"""


@pytest.mark.airflow
@pytest.mark.skipif(not AIRFLOW_PYTHON.exists(), reason="no .venv-airflow (`make test` makes it)")
def test_vtm_exec_retries_and_on_kill_on_real_airflow(
    vtm_home: Path, worker: Path, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    server = Server(vtm_home, f"sqlite:///{tmp_path / 'vtm.db'}").start()
    home = airflow_home.new_home(tmp_path / "airflow", AIRFLOW_BIN / "airflow")
    env = airflow_home.environment(home, EXEC_DAGS)
    env.update(
        EXEC_TEST_PYTHON=sys.executable,
        EXEC_TEST_URL=server.url,
        EXEC_TEST_HOME=str(worker),
        EXEC_TEST_CATALOG=str(TEST_CATALOG),
        EXEC_TEST_GATES=str(gates),
        # For VtmExecOperator: its connection, and what `vtm exec` reads on "the worker".
        AIRFLOW_CONN_VTM_DEFAULT=json.dumps(
            {"conn_type": "vtm", "host": "127.0.0.1", "port": server.port}
        ),
        VTM_HOME=str(worker),
        VTM_CATALOG=str(TEST_CATALOG),
        VTM_STOP_GRACE_SECONDS="1",
    )
    dags = ("exec_retry", "exec_timeout", "exec_operator_timeout")
    try:
        result = subprocess.run(
            [str(AIRFLOW_PYTHON), "-c", RUN_DAGS, str(EXEC_DAGS), *dags],
            env=env,
            capture_output=True,
            text=True,
            timeout=280,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        states = json.loads(result.stdout.split("STATES ")[1].splitlines()[0])
        assert states == {
            "exec_retry": "success",
            "exec_timeout": "failed",
            "exec_operator_timeout": "failed",
        }

        runs = server.client.get("/api/runs").json()["runs"]  # newest first
        operator_killed, killed, second, first = runs
        assert (first["status"], first["exitCode"]) == ("failed", 5)
        assert (second["status"], second["exitCode"]) == ("completed", 0)
        assert second["origin"]["airflow"]["dagId"] == "exec_retry"
        assert second["origin"]["airflow"]["tryNumber"] == 2
        assert second["origin"]["previousTryRunId"] == first["id"]
        assert second["fields"]["text"] == second["origin"]["airflow"]["logicalDate"][:10]
        # execution_timeout → on_kill → SIGTERM to the command's group → the run stopped.
        assert killed["origin"]["airflow"]["dagId"] == "exec_timeout"
        assert killed["status"] == "stopped"
        nothing_left_of(worker, killed["id"])
        # The same through VtmExecOperator's on_kill: SIGTERM to its `vtm exec`.
        assert operator_killed["origin"]["kind"] == "exec"
        assert operator_killed["origin"]["airflow"]["dagId"] == "exec_operator_timeout"
        assert operator_killed["status"] == "stopped"
        nothing_left_of(worker, operator_killed["id"])
    finally:
        server.stop()
        server.client.close()


# -- the external-runs API itself -----------------------------------------------------------


def register_body(run_id: str = "20261126-120000-abcdef") -> dict[str, Any]:
    return {
        "id": run_id,
        "taskId": "scripted",
        "fields": {"epochs": 2},
        "command": ["python", "train.py", "--epochs=2"],
        "host": "worker-7",
    }


def post_output(server: Server, run_id: str, offset: int, data: bytes) -> httpx.Response:
    return server.client.post(
        f"/api/runs/{run_id}/output",
        params={"offset": offset},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )


@pytest.mark.both_databases
def test_the_exchange_is_safe_to_repeat(server: Server) -> None:
    body = register_body()
    first = server.client.post("/api/runs/external", json=body)
    again = server.client.post("/api/runs/external", json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["run"]["id"] == again.json()["run"]["id"] == body["id"]
    assert first.json()["run"]["status"] == "running"
    run_id = body["id"]
    taken = server.client.post("/api/runs/external", json={**body, "host": "elsewhere"})
    assert taken.status_code == 409

    one = b'line 1\nVTM_PROGRESS::{"epoch": 1, "loss": 0.5}\n'
    two = b'line 2\nVTM_PROGRESS::{"epoch": 2, "loss": 0.25}\npartial'
    assert post_output(server, run_id, 0, one).json()["received"] == len(one)
    assert post_output(server, run_id, 0, one).json()["received"] == len(one)  # a resend
    # A chunk from beyond what the server holds is not taken: it says where to go on from.
    assert post_output(server, run_id, len(one) + 5, two).json()["received"] == len(one)
    # Overlapping: only the new part is kept.
    ack = post_output(server, run_id, len(one) - 3, one[-3:] + two).json()
    assert ack == {"received": len(one + two), "status": "running", "stopRequested": False}
    assert post_output(server, run_id, len(one + two), b"").status_code == 200  # heartbeat

    run = server.run(run_id)
    assert run["lineCount"] == 4  # "partial" is not a line until the run ends
    series = server.client.get(f"/api/runs/{run_id}/metrics").json()["series"]
    assert [(p["step"], p["value"]) for p in series["loss"]] == [(1, 0.5), (2, 0.25)]

    finish = {"status": "completed", "exitCode": 0, "size": len(one + two) + 1}
    short = server.client.post(f"/api/runs/{run_id}/finish", json=finish)
    assert short.status_code == 409 and "send the rest" in short.text
    finish["size"] = len(one + two)
    ended = server.client.post(f"/api/runs/{run_id}/finish", json=finish)
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "completed" and ended.json()["lineCount"] == 5
    assert ended.json()["logs"][-1] == "partial"
    assert server.client.post(f"/api/runs/{run_id}/finish", json=finish).status_code == 200
    assert post_output(server, run_id, 0, one).status_code == 409
    failed = server.client.post(f"/api/runs/{run_id}/finish", json={**finish, "status": "failed"})
    assert failed.status_code == 409
    assert full_log(server, run_id) == (one + two).decode()


@pytest.mark.both_databases
def test_a_restarted_server_leaves_external_runs_alone(server: Server) -> None:
    body = register_body()
    assert server.client.post("/api/runs/external", json=body).status_code == 201
    server.stop()
    back = Server(server.home, server.database_url, port=server.port).start()
    try:
        # Not adopted as a supervised run (that would fail it: no supervisor here).
        assert back.client.get("/api/health").json()["activeRuns"] == 0
        assert back.run(body["id"])["status"] == "running"
        assert post_output(back, body["id"], 0, b"still here\n").json()["received"] == 11
        # The server's own runs refuse the external calls.
        own = back.start_run(epochs=1)["id"]
        assert post_output(back, own, 0, b"x\n").status_code == 409
    finally:
        back.stop()
        back.client.close()


def test_bad_registrations_are_refused_naming_the_field(server: Server) -> None:
    bad = server.client.post("/api/runs/external", json={**register_body(), "id": "../x"})
    assert bad.status_code == 422 and "id" in bad.text
    no_command = server.client.post("/api/runs/external", json={**register_body(), "command": []})
    assert no_command.status_code == 422 and "command" in no_command.text
    unknown = server.client.post("/api/runs/unknown-run/output", params={"offset": 0})
    assert unknown.status_code == 404


# -- recorded in the local store --------------------------------------------------------------


@pytest.mark.both_databases
def test_without_vtm_url_the_run_is_in_the_local_store(worker: Path, database_url: str) -> None:
    env = exec_env(worker, None, VTM_DATABASE_URL=database_url)
    code, out, err = run_exec(env, "scripted", "--set", "epochs=2", "--set", "exit_code=4")

    assert code == 4, err
    engine = create_db_engine(database_url)
    try:
        runs, _ = RunRepository(engine).page()
        assert len(runs) == 1
        run = runs[0]
        assert run.status is RunStatus.FAILED
        assert run.exit_code == 4
        assert run.origin == {"kind": "exec", "host": socket.gethostname()}
        assert run.progress["epoch"] == 2
        assert run.line_count == out.count("\n")
        assert (worker / "runs" / run.id / "output.log").read_text() == out
    finally:
        engine.dispose()
    # A server on the same store and home shows it like its own, log included.
    server = Server(worker, database_url).start()
    try:
        shown = server.run(run.id)
        assert shown["status"] == "failed" and shown["origin"]["kind"] == "exec"
        assert full_log(server, run.id) == out
    finally:
        server.stop()
        server.client.close()


# -- small parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (RunStatus.COMPLETED, 0, 0),
        (RunStatus.FAILED, 3, 3),
        (RunStatus.FAILED, -9, 137),
        (RunStatus.STOPPED, -15, 143),
        (RunStatus.STOPPED, 0, 143),  # a trainer that stops cleanly must not look successful
        (RunStatus.FAILED, None, 1),  # it never started
    ],
)
def test_the_exit_code_is_the_runs(status: RunStatus, code: int | None, expected: int) -> None:
    assert Outcome(status, code, None).exit_code == expected


def test_the_airflow_context_comes_from_the_environment() -> None:
    assert airflow_from_env({}) is None
    full = {**AIRFLOW_TRY, "AIRFLOW_CTX_TRY_NUMBER": "3"}
    assert airflow_from_env(full) == {
        "dagId": "digits-nightly",
        "runId": "scheduled__2026-11-25T02:00:00+00:00",
        "taskId": "train",
        "tryNumber": 3,
        "mapIndex": -1,
        "logicalDate": "2026-11-25T02:00:00+00:00",
    }
    no_date = {k: v for k, v in full.items() if k != "AIRFLOW_CTX_LOGICAL_DATE"}
    assert airflow_from_env(no_date)["logicalDate"] is None  # type: ignore[index]
    # Where the try ran, from vtm-airflow's exec operator.
    placed = {**full, "VTM_AIRFLOW_QUEUE": "gpu-a100", "VTM_AIRFLOW_HOSTNAME": "gpu-worker-3"}
    assert airflow_from_env(placed) == {
        **airflow_from_env(full),  # type: ignore[dict-item]
        "queue": "gpu-a100",
        "hostname": "gpu-worker-3",
    }
    with pytest.raises(ValueError, match="AIRFLOW_CTX_TRY_NUMBER"):
        airflow_from_env({**full, "AIRFLOW_CTX_TRY_NUMBER": "x"})
    with pytest.raises(ValueError, match="AIRFLOW_CTX_TASK_ID"):
        airflow_from_env({k: v for k, v in full.items() if k != "AIRFLOW_CTX_TASK_ID"})
