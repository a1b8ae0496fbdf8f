"""Runs on a real Ray cluster (``executor: ray``): a head and a second node on this machine,
each declaring one GPU (no hardware: Ray hands out CUDA_VISIBLE_DEVICES as on a GPU node),
started once for the module from ``.venv-ray``. Each test's `vtm serve` submits its runs
there; the jobs run this checkout's `vtm exec`, which reports back over the external-runs API
with the run's own token."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from vtm_testkit.exec_spare import ExecSpare, copy_pid
from vtm_testkit.ray_cluster import RayCluster

from support import Server, processes_with_env, vtm_home_at, wait_for

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[1]
RAY = ROOT / ".venv-ray" / "bin" / "ray"
VTM = ROOT / ".venv" / "bin" / "vtm"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    node_home = tmp_path_factory.mktemp("ray-node") / "home"
    # The jobs' `vtm exec`s keep their copy of each run's output in the node's VTM home; they
    # go to a spare at VTM_EXEC_SPARE while a test keeps one there (``node_spare``).
    env = {"VTM_HOME": str(node_home), "VTM_EXEC_SPARE": str(node_home.parent / "spare.sock")}
    with RayCluster(RAY, head_gpus=1, node_gpus=1, env=env) as ray:
        yield ray


@pytest.fixture
def node_spare(cluster: RayCluster, tmp_path: Path) -> Iterator[Path]:
    """A `vtm exec-spare` on the cluster's nodes (one machine) for this test."""
    path = Path(cluster.env["VTM_EXEC_SPARE"])
    with ExecSpare([str(VTM)], path, tmp_path / "spare.log"):
        yield path


def ray_server(home: Path, cluster: RayCluster, vtm: str = str(VTM), **env: str) -> Server:
    """A server whose Ray runs go to ``cluster``, running ``vtm`` there; `vtm exec` beats
    every 1.5 s (a stop reaches it within that)."""
    settings = {
        "VTM_RAY_ADDRESS": cluster.address,
        "VTM_RAY_VTM": vtm,
        "VTM_RAY_POLL_SECONDS": "0.5",
        "VTM_EXEC_HEARTBEAT_TIMEOUT_SECONDS": "6",
        **env,
    }
    return Server(home, **settings)


@pytest.fixture
def server(vtm_home: Path, cluster: RayCluster) -> Iterator[Server]:
    srv = ray_server(vtm_home, cluster).start()
    yield srv
    srv.close()


def start_on_ray(server: Server, task: str = "scripted", **fields: Any) -> dict[str, Any]:
    r = server.client.post(
        "/api/runs/start", json={"taskId": task, "fields": fields, "executor": "ray"}
    )
    assert r.status_code == 201, r.text
    run: dict[str, Any] = r.json()
    assert run["executor"] == "ray"
    return run


def ray_log(server: Server, run_id: str) -> str:
    """The run's whole output as the server holds it (sent by the node's `vtm exec`)."""
    return server.full_log(run_id).decode()


def job_env(cluster: RayCluster, run_id: str) -> dict[str, str]:
    """The environment the run's Ray job was given ({} before it is submitted)."""
    job = cluster.job(run_id) or {}
    runtime_env = job.get("runtime_env") or {}
    assert isinstance(runtime_env, dict)
    env: dict[str, str] = runtime_env.get("env_vars") or {}
    return env


def test_a_ray_run_completes_with_its_whole_log_progress_and_metrics(server: Server) -> None:
    run = start_on_ray(server, epochs=3, lines=40)
    done = server.wait_status(run["id"], timeout=120)
    assert done["status"] == "completed", done
    assert done["exitCode"] == 0
    log = ray_log(server, run["id"])
    numbered = [line for line in log.splitlines() if line.startswith("line ")]
    assert numbered == [f"line {n}" for n in range(1, 121)]  # each line once, in order
    assert done["progress"]["epoch"] == 3
    metrics = server.client.get(f"/api/runs/{run['id']}/metrics").json()["series"]
    assert [p["value"] for p in metrics["val_accuracy"]] == pytest.approx([1 / 3, 2 / 3, 1])
    assert done["host"], "the node's host is recorded"
    assert done["origin"]["kind"] == "person"


def test_a_one_gpu_run_gets_a_gpu_from_ray_and_vtm_records_which(server: Server) -> None:
    run = start_on_ray(server, "one-gpu", epochs=1)
    done = server.wait_status(run["id"], timeout=120)
    assert done["status"] == "completed", (done["error"], server.log()[-3000:])
    env_line = next(x for x in ray_log(server, run["id"]).splitlines() if x.startswith("env::"))
    given = json.loads(env_line.removeprefix("env::"))["CUDA_VISIBLE_DEVICES"]
    assert given in ("0",)  # each node declares one GPU: Ray's index 0 on it
    assert done["gpus"] == [int(given)]


def test_runs_beyond_the_clusters_gpus_wait_in_vtms_queue(
    server: Server, cluster: RayCluster, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    paused = dict(epochs=2, gate_dir=str(gates), pause_at=1)
    first, second, third = (start_on_ray(server, "one-gpu", **paused)["id"] for _ in range(3))
    for run_id in (first, second):
        server.wait_epoch(run_id, 1, timeout=120)
    # One GPU on each node: the two runs went to different nodes, the third waits in VTM.
    assert {server.run(r)["node"] for r in (first, second)} == {
        n["node_id"] for n in cluster.nodes()
    }
    waiting = server.run(third)
    assert waiting["status"] == "queued"
    assert "needs 1 GPU on one Ray node" in waiting["queue"]["reason"]
    assert cluster.job(third) is None, "a run without room is not handed to Ray"
    assert not [j for j in cluster.jobs() if j["status"] == "PENDING"]
    # Two GPUs on one node: no node has them, and VTM says so.
    big = start_on_ray(server, "two-gpus", epochs=1)
    reason = server.run(big["id"])["queue"]["reason"]
    assert "needs 2 GPUs on one Ray node; the largest declares 1 GPU" in reason
    server.client.post(f"/api/runs/{big['id']}/stop")

    (gates / first).touch()
    assert server.wait_status(first, timeout=60)["status"] == "completed"
    server.wait_epoch(third, 1, timeout=120)  # the freed GPU went to the waiting run
    for run_id in (second, third):
        (gates / run_id).touch()
        assert server.wait_status(run_id, timeout=60)["status"] == "completed"


def test_stop_ends_a_trainer_that_ignores_sigterm_and_its_children(server: Server) -> None:
    run_id = start_on_ray(server, "stubborn")["id"]
    line = wait_for(
        lambda: next((x for x in server.run(run_id)["logs"] if x.startswith("child-pids::")), None),
        "the stubborn trainer's children",
        120,
    )
    children = [int(p) for p in line.removeprefix("child-pids::").split(",")]
    r = server.client.post(f"/api/runs/{run_id}/stop")
    assert r.status_code == 200, r.text
    done = server.wait_status(run_id, timeout=60)
    assert done["status"] == "stopped", done
    marker = f"VTM_RUN_ID={run_id}"
    wait_for(lambda: not processes_with_env(marker), "every process of the run to be gone", 30)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_runs_handed_to_the_nodes_spare_complete_whole_and_stop_clean(
    server: Server, cluster: RayCluster, node_spare: Path
) -> None:
    run = start_on_ray(server, epochs=2, lines=30)
    stubborn = start_on_ray(server, "stubborn")["id"]
    done = server.wait_status(run["id"], timeout=120)
    assert done["status"] == "completed", done
    numbered = [x for x in ray_log(server, run["id"]).splitlines() if x.startswith("line ")]
    assert numbered == [f"line {n}" for n in range(1, 61)]
    assert "vtm exec: started by the spare at" in driver_log(cluster, run["id"])

    wait_for(lambda: "child-pids::" in ray_log(server, stubborn), "the stubborn children", 120)
    assert server.client.post(f"/api/runs/{stubborn}/stop").status_code == 200
    assert server.wait_status(stubborn, timeout=60)["status"] == "stopped"
    marker = f"VTM_RUN_ID={stubborn}"
    wait_for(lambda: not processes_with_env(marker), "every process of the run to be gone", 30)
    copy = copy_pid(driver_log(cluster, stubborn))
    assert copy is not None
    wait_for(lambda: not Path(f"/proc/{copy}").exists(), "the spare's copy to end", 30)


def driver_log(cluster: RayCluster, run_id: str) -> str:
    """What the job's entrypoint printed, as Ray keeps it."""
    r = cluster.http.get(f"/api/jobs/{run_id}/logs")
    assert r.status_code == 200, r.text
    logs: str = r.json()["logs"]
    return logs


def test_vtm_killed_mid_run_the_ray_run_completes_with_its_whole_log(
    server: Server, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    run_id = start_on_ray(server, epochs=3, lines=30, gate_dir=str(gates), pause_at=1)["id"]
    server.wait_epoch(run_id, 1, timeout=120)
    server.kill9()
    (gates / run_id).touch()  # it trains on while no server is up
    server.start()
    done = server.wait_status(run_id, timeout=120)
    assert done["status"] == "completed", done
    numbered = [x for x in ray_log(server, run_id).splitlines() if x.startswith("line ")]
    assert numbered == [f"line {n}" for n in range(1, 91)]


def test_a_job_stopped_from_rays_side_fails_the_run_with_a_reason(
    server: Server, cluster: RayCluster, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    run_id = start_on_ray(server, epochs=2, gate_dir=str(gates), pause_at=1)["id"]
    server.wait_epoch(run_id, 1, timeout=120)
    cluster.stop_job(run_id)
    done = server.wait_status(run_id, timeout=60)
    assert done["status"] == "failed", done
    assert "outside VTM" in done["error"] or "Ray job ended" in done["error"], done["error"]


def test_a_runs_token_opens_that_run_only_and_a_restart_settles_runs_ended_unreported(
    vtm_home: Path, cluster: RayCluster
) -> None:
    # The nodes' `vtm` here claims nothing and ends at once: the test plays the job's part
    # with the tickets any reader of Ray's API sees. The watch looks rarely meanwhile.
    idle = f"{shlex.quote(sys.executable)} -c pass"
    # Heartbeats are not expected (the test claims the runs and then falls silent).
    server = ray_server(
        vtm_home,
        cluster,
        vtm=idle,
        VTM_RAY_POLL_SECONDS="600",
        VTM_EXEC_HEARTBEAT_TIMEOUT_SECONDS="300",
    ).start()
    try:
        a, b = (start_on_ray(server)["id"] for _ in range(2))
        tickets = {
            r: wait_for(lambda r=r: job_env(cluster, r).get("VTM_RUN_TICKET"), "ticket")
            for r in (a, b)
        }
        api = httpx.Client(base_url=server.url, timeout=30)

        def claim(run_id: str, ticket: str) -> httpx.Response:
            body = {
                "ticket": ticket,
                "taskId": "scripted",
                "host": "node-x",
                "gpus": [],
                "command": ["python", "train.py"],
            }
            return api.post(f"/api/runs/{run_id}/claim", json=body)

        assert claim(a, tickets[b]).status_code == 403  # not its ticket
        token = {r: claim(r, tickets[r]).json()["token"] for r in (a, b)}
        assert claim(a, tickets[a]).status_code == 403, "a ticket is good once"
        assert token[a] not in json.dumps(cluster.jobs()), "the token never reaches Ray"

        def output(run_id: str, as_: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {as_}"} if as_ else {}
            return api.post(
                f"/api/runs/{run_id}/output",
                params={"offset": 0},
                content=b"hello\n",
                headers=headers,
            )

        assert output(b, token[a]).status_code == 403
        assert output(b, None).status_code == 403
        finish = {"status": "completed", "exitCode": 0, "size": 6}
        r = api.post(
            f"/api/runs/{b}/finish", json=finish, headers={"Authorization": f"Bearer {token[a]}"}
        )
        assert r.status_code == 403
        assert output(b, token[b]).status_code == 200
        assert server.run(b)["host"] == "node-x"
        api.close()

        # Two runs whose jobs ended without a word, seen by the next VTM.
        for run_id in (a, b):
            wait_for(
                lambda r=run_id: (cluster.job(r) or {}).get("status") == "SUCCEEDED",
                f"Ray job {run_id} to end",
                60,
            )
        server.kill9()
        server.env["VTM_RAY_POLL_SECONDS"] = "0.5"
        server.start()
        for run_id in (a, b):
            ended = server.wait_status(run_id, timeout=60)
            assert ended["status"] == "failed", ended
            assert "ended SUCCEEDED without `vtm exec` reporting" in ended["error"]
            assert "driver exit code 0" in ended["error"]
    finally:
        server.close()


def test_a_ray_run_needs_a_configured_cluster(vtm_home: Path) -> None:
    for home in vtm_home_at(vtm_home / "plain"):
        with Server(home) as plain:
            r = plain.client.post("/api/runs/start", json={"taskId": "scripted", "executor": "ray"})
            assert r.status_code == 422, r.text
            assert r.json()["error"]["fields"][0]["field"] == "executor"
            assert plain.client.get("/api/config").json()["executors"] == ["local"]


# Last in the module: it restarts the module's cluster.
def test_runs_a_restarted_ray_head_forgot_fail_as_lost_by_the_cluster(
    vtm_home: Path, cluster: RayCluster, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    # Heartbeats are given longer than the head's restart: the Ray watch must be what tells.
    server = ray_server(vtm_home, cluster, VTM_EXEC_HEARTBEAT_TIMEOUT_SECONDS="300").start()
    try:
        run_id = start_on_ray(server, epochs=2, gate_dir=str(gates), pause_at=1)["id"]
        server.wait_epoch(run_id, 1, timeout=120)
        cluster.restart()  # the head crashes, its jobs with it, and comes back knowing none
        lost = server.wait_status(run_id, timeout=120)
        assert lost["status"] == "failed", lost
        assert "lost by the cluster" in lost["error"], lost["error"]
        assert not processes_with_env(f"VTM_RUN_ID={run_id}")
    finally:
        server.close()
