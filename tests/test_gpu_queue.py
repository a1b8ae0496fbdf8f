"""The GPU-aware queue with a declared inventory (VTM_GPUS) and real trainers: each run gets
GPUs of its own, a waiting run says where it stands and why, priorities reorder, a big run is
not starved, and a GPU comes free however its run ends."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from support import Server, vtm_home_at, wait_for
from vtm.supervisor import RunDir, read_pids

# The queue is held in the store: the scheduler reads it on every pass.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    path = tmp_path / "gates"
    path.mkdir()
    return path


def gpu_server(home: Path, database_url: str, gpus: str = "0,1", **env: str) -> Server:
    return Server(home, database_url, VTM_GPUS=gpus, **env).start()


@pytest.fixture
def two_gpus(vtm_home: Path, database_url: str) -> Iterator[Server]:
    srv = gpu_server(vtm_home, database_url)
    yield srv
    srv.close()


def held_run(srv: Server, gates: Path, task: str = "one-gpu", **body: Any) -> dict[str, Any]:
    """A run that stops at its first epoch until its gate opens."""
    fields = {"epochs": 1, "gate_dir": str(gates), "pause_at": 1}
    r = srv.client.post("/api/runs/start", json={"taskId": task, "fields": fields, **body})
    assert r.status_code == 201, r.text
    run: dict[str, Any] = r.json()
    return run


def trainer_env(srv: Server, run_id: str) -> dict[str, str]:
    """The environment the run's trainer saw (the `env::` line it prints first)."""

    def probe() -> dict[str, str] | None:
        path = srv.home / "runs" / run_id / "output.log"
        log = path.read_text() if path.exists() else ""
        lines = [line for line in log.splitlines() if line.startswith("env::")]
        return json.loads(lines[0][len("env::") :]) if lines else None

    return wait_for(probe, f"run {run_id}'s trainer to print its environment")


def queue_of(srv: Server, run_id: str) -> dict[str, Any]:
    run = srv.run(run_id)
    assert run["status"] == "queued", run
    queue: dict[str, Any] = run["queue"]
    return queue


def holders(srv: Server) -> dict[int, str | None]:
    return {g["index"]: g["runId"] for g in srv.client.get("/api/gpus").json()["gpus"]}


def test_runs_get_their_own_gpus_and_wait_in_priority_order_with_a_reason(
    two_gpus: Server, gates: Path
) -> None:
    srv = two_gpus
    a, b = held_run(srv, gates), held_run(srv, gates)
    seen = {trainer_env(srv, r["id"])["CUDA_VISIBLE_DEVICES"] for r in (a, b)}
    assert seen == {"0", "1"}
    gpus = srv.client.get("/api/gpus").json()
    assert gpus["source"] == "declared"
    assert {g["runId"] for g in gpus["gpus"]} == {a["id"], b["id"]}

    c = held_run(srv, gates)
    assert c["status"] == "queued"
    assert c["priority"] == 0
    assert c["queue"]["position"] == 1
    assert c["queue"]["reason"] == "needs 1 GPU, 0 free"
    urgent = held_run(srv, gates, priority=5)
    assert queue_of(srv, urgent["id"])["position"] == 1
    assert queue_of(srv, c["id"]) == {
        "position": 2,
        "reason": "needs 1 GPU, 0 free; behind 1 run of higher priority",
        "estimatedStartAt": None,  # no run of one-gpu has completed: nothing is known
    }
    # A changed priority reorders the queue at once.
    changed = srv.client.patch(f"/api/runs/{c['id']}", json={"priority": 10})
    assert changed.status_code == 200, changed.text
    assert changed.json()["priority"] == 10
    assert queue_of(srv, c["id"])["position"] == 1
    assert queue_of(srv, urgent["id"])["position"] == 2

    # A GPU comes free: the run of highest priority gets it.
    (gates / a["id"]).touch()
    assert srv.wait_status(a["id"])["status"] == "completed"
    srv.wait_status(c["id"], "running")
    freed = srv.run(a["id"])["gpus"]
    assert srv.run(c["id"])["gpus"] == freed
    assert trainer_env(srv, c["id"])["CUDA_VISIBLE_DEVICES"] == str(freed[0])
    assert queue_of(srv, urgent["id"])["reason"] == "needs 1 GPU, 0 free"

    # A queued run is cancelled, and a started one can no longer be moved.
    cancelled = srv.client.post(f"/api/runs/{urgent['id']}/stop").json()
    assert (cancelled["status"], cancelled["queue"]) == ("stopped", None)
    late = srv.client.patch(f"/api/runs/{c['id']}", json={"priority": 1})
    assert late.status_code == 409
    assert "no longer queued" in late.json()["error"]["message"]

    # A run that asked for no GPU sees none, whatever the server's own environment says.
    cpu = srv.start_run(epochs=1)
    assert trainer_env(srv, cpu["id"])["CUDA_VISIBLE_DEVICES"] == ""
    for run in (b, c):
        (gates / run["id"]).touch()
    for run in (b, c, cpu):
        assert srv.wait_status(run["id"])["status"] == "completed"
    assert holders(srv) == {0: None, 1: None}


def test_a_two_gpu_run_gets_both_together_and_small_runs_fill_in_only_until_its_reservation(
    vtm_home: Path, database_url: str, gates: Path, tmp_path: Path
) -> None:
    srv = gpu_server(vtm_home, database_url)  # reservation after 10 minutes: back-filling
    try:
        first = held_run(srv, gates)
        big = held_run(srv, gates, task="two-gpus")
        small = held_run(srv, gates)
        assert queue_of(srv, big["id"])["reason"] == "needs 2 GPUs, 1 free"
        srv.wait_status(small["id"], "running")  # the free GPU, ahead of the big run
        for run in (first, small):
            (gates / run["id"]).touch()
        srv.wait_status(big["id"], "running")
        assert trainer_env(srv, big["id"])["CUDA_VISIBLE_DEVICES"] == "0,1"
        (gates / big["id"]).touch()
        srv.wait_status(big["id"])
    finally:
        srv.close()

    # Past the reservation time (0 here) the big run keeps the GPUs that come free.
    for home in vtm_home_at(tmp_path / "reserving"):
        srv = gpu_server(home, database_url, VTM_QUEUE_RESERVE_AFTER="0")
        try:
            first = held_run(srv, gates)
            big = held_run(srv, gates, task="two-gpus")
            stream = [held_run(srv, gates) for _ in range(3)]
            assert queue_of(srv, stream[0]["id"])["reason"] == (
                "needs 1 GPU, 0 free; GPUs kept for run "
                f"{big['id']}, waiting longest; behind 1 run queued earlier"
            )
            (gates / first["id"]).touch()
            srv.wait_status(big["id"], "running")
            assert srv.run(big["id"])["gpus"] == [0, 1]
            assert all(srv.run(r["id"])["status"] == "queued" for r in stream)
            (gates / big["id"]).touch()
            for run in stream:
                srv.wait_status(run["id"], "running")
                (gates / run["id"]).touch()
                srv.wait_status(run["id"])
        finally:
            srv.close()


def test_a_gpu_is_freed_however_its_run_ends(
    vtm_home: Path, database_url: str, gates: Path
) -> None:
    srv = gpu_server(vtm_home, database_url, gpus="0")
    try:
        # failed
        crashing = srv.client.post(
            "/api/runs/start", json={"taskId": "one-gpu", "fields": {"epochs": 1, "exit_code": 3}}
        ).json()
        assert srv.wait_status(crashing["id"])["status"] == "failed"
        # stopped
        stopped = held_run(srv, gates)
        waiting = held_run(srv, gates)
        assert waiting["status"] == "queued"
        srv.wait_epoch(stopped["id"], 1)
        srv.client.post(f"/api/runs/{stopped['id']}/stop")
        assert srv.wait_status(stopped["id"])["status"] == "stopped"
        # its supervisor killed with -9
        srv.wait_epoch(waiting["id"], 1)
        lost = waiting
        waiting = held_run(srv, gates)
        pids = read_pids(RunDir(vtm_home / "runs" / lost["id"]))
        assert pids is not None
        os.kill(pids.supervisor_pid, signal.SIGKILL)
        assert srv.wait_status(lost["id"])["status"] == "failed"
        # a server restart with the run going: it keeps its GPU, then gives it back
        srv.wait_epoch(waiting["id"], 1)
        going = waiting
        waiting = held_run(srv, gates)
        srv.kill9()
        srv.start()
        assert holders(srv) == {0: going["id"]}
        assert queue_of(srv, waiting["id"])["position"] == 1
        (gates / going["id"]).touch()
        assert srv.wait_status(going["id"])["status"] == "completed"
        srv.wait_epoch(waiting["id"], 1)
        assert holders(srv) == {0: waiting["id"]}
        (gates / waiting["id"]).touch()
        srv.wait_status(waiting["id"])
    finally:
        srv.close()


def test_a_queued_runs_start_is_estimated_from_the_median_of_earlier_runs(
    vtm_home: Path, database_url: str, gates: Path
) -> None:
    from datetime import UTC, timedelta

    from vtm.states import RunStatus
    from vtm.store import RunRepository, create_db_engine, migrate
    from vtm.store.launch import LaunchRecord
    from vtm.store.records import NewRun

    # Three earlier runs of one-gpu took 100, 300 and 200 s: the median is 200 s.
    engine = create_db_engine(database_url)
    migrate(engine)
    repo = RunRepository(engine)
    for n, took in enumerate((100, 300, 200)):
        start = datetime(2026, 11, 1, 10, n, tzinfo=UTC)
        repo.insert(
            NewRun(f"20261101-10{n:02d}00-00000{n}", "one-gpu", {}, [], LaunchRecord(gpus=1))
        )
        repo.transition(f"20261101-10{n:02d}00-00000{n}", RunStatus.RUNNING, started_at=start)
        repo.transition(
            f"20261101-10{n:02d}00-00000{n}",
            RunStatus.COMPLETED,
            finished_at=start + timedelta(seconds=took),
        )
    engine.dispose()
    srv = gpu_server(vtm_home, database_url, gpus="0")
    try:
        first = held_run(srv, gates)
        second = held_run(srv, gates)
        started = datetime.fromisoformat(srv.wait_status(first["id"], "running")["startedAt"])
        estimate = datetime.fromisoformat(queue_of(srv, second["id"])["estimatedStartAt"])
        assert estimate == started + timedelta(seconds=200)
        for run in (first, second):
            (gates / run["id"]).touch()
            srv.wait_status(run["id"])
    finally:
        srv.close()


def test_the_terminal_shows_the_queue_and_moves_a_run(two_gpus: Server, gates: Path) -> None:
    from test_cli import started_id, vtm

    srv = two_gpus
    holding = [held_run(srv, gates) for _ in range(2)]
    gate = ["-s", "epochs=1", "-s", f"gate_dir={gates}", "-s", "pause_at=1"]
    low = vtm(srv, "run", "one-gpu", *gate)
    high = vtm(srv, "run", "one-gpu", "--priority", "3", *gate)
    assert "queued #1: needs 1 GPU, 0 free" in high.stdout, high.stdout
    low_id, high_id = started_id(low.stdout), started_id(high.stdout)

    shown = vtm(srv, "queue", columns=200)
    assert shown.returncode == 0, shown.stderr
    assert "GPUs (declared in VTM_GPUS)" in shown.stdout
    for run in holding:
        assert run["id"] in shown.stdout
    rows = [line for line in shown.stdout.splitlines() if low_id in line or high_id in line]
    assert [high_id in rows[0], low_id in rows[1]] == [True, True], shown.stdout
    assert "behind 1 run of higher priority" in rows[1]

    moved = vtm(srv, "queue", low_id[:20], "--priority", "9", columns=200)
    assert f"run {low_id}: priority 9" in moved.stdout, moved.stdout + moved.stderr
    assert queue_of(srv, low_id)["position"] == 1
    refused = vtm(srv, "queue", holding[0]["id"], "--priority", "1")
    assert refused.returncode != 0
    assert "no longer queued" in refused.stderr
    for run_id in (low_id, high_id):
        srv.client.post(f"/api/runs/{run_id}/stop")
    for run in holding:
        (gates / run["id"]).touch()
        srv.wait_status(run["id"])
