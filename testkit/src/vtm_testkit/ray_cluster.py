"""A real local Ray cluster for tests and benchmarks: a head and a second node on this machine,
each declaring GPUs it does not have (Ray then hands out ``CUDA_VISIBLE_DEVICES`` indices as
on a GPU node, which is what VTM's placement is tested against), started with the `ray` of
its own environment (``.venv-ray``: Ray pins packages VTM's server cannot share).

Every Ray process inherits a marker variable, so ``close`` kills exactly this cluster's
processes: `ray stop` would stop every Ray on the machine, a person's `make ray` included.
Ray's dashboard serves its Jobs REST API and the node list on ``address``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx

from vtm_testkit.ports import free_port
from vtm_testkit.processes import kill_marked
from vtm_testkit.waiting import wait_for

MARKER = "VTM_TESTKIT_RAY"


def _own_ports() -> list[str]:
    """Free ports for every server a Ray node starts: Ray's defaults (the agent's 52365, the
    client server's 10001…) would clash with any other Ray on the machine, a `make ray` too,
    and a node whose agent cannot listen takes no job ("No available agent")."""
    names = (
        "node-manager-port",
        "object-manager-port",
        "ray-client-server-port",
        "dashboard-agent-listen-port",
        "dashboard-agent-grpc-port",
        "runtime-env-agent-port",
        "metrics-export-port",
    )
    return [f"--{name}={free_port()}" for name in names]


class RayCluster:
    """``head_gpus`` on the head, ``node_gpus`` on a second node (0: no second node);
    ``env``: more variables for every Ray process (and so for the jobs' drivers)."""

    def __init__(
        self,
        ray: Path,
        *,
        head_gpus: int = 1,
        node_gpus: int = 1,
        cpus: int = 2,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.ray = ray
        self.head_gpus = head_gpus
        self.node_gpus = node_gpus
        self.cpus = cpus
        # Short: Ray's socket paths live under it and must stay below the kernel's 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="vtmray-", dir="/tmp"))
        self.dashboard_port = free_port()
        self.gcs_port = free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "VTM_"))},
            **(env or {}),
            MARKER: str(self.root),
            "RAY_USAGE_STATS_ENABLED": "0",
            # Ray's own Python first: its workers and job drivers are started as `python`.
            "PATH": f"{ray.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        self.log = self.root / "ray-start.log"
        self.http = httpx.Client(base_url=self.address, timeout=10)

    def _ray(self, *args: str, timeout: float = 120) -> None:
        with open(self.log, "ab") as log:
            done = subprocess.run(
                [str(self.ray), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        if done.returncode != 0:
            raise AssertionError(
                f"ray {' '.join(args[:2])} exited {done.returncode}:\n"
                f"{self.log.read_text(errors='replace')[-4000:]}"
            )

    def start(self) -> RayCluster:
        if not self.ray.exists():
            raise AssertionError(f"no Ray at {self.ray}: `make ray-env` creates .venv-ray")
        common = ["--num-cpus", str(self.cpus), "--object-store-memory", "100000000"]
        self._ray(
            "start",
            "--head",
            "--port",
            str(self.gcs_port),
            "--num-gpus",
            str(self.head_gpus),
            "--include-dashboard=true",
            "--dashboard-host=127.0.0.1",
            "--dashboard-port",
            str(self.dashboard_port),
            "--temp-dir",
            str(self.root / "t"),
            "--disable-usage-stats",
            *common,
            *_own_ports(),
        )
        if self.node_gpus:
            self._ray(
                "start",
                "--address",
                f"127.0.0.1:{self.gcs_port}",
                "--num-gpus",
                str(self.node_gpus),
                "--disable-usage-stats",
                *common,
                *_own_ports(),
            )
        wait_for(
            lambda: len(self.nodes()) == (2 if self.node_gpus else 1),
            "the Ray cluster's nodes to be up",
            120,
            every=0.5,
        )
        self.warm_up()
        return self

    def warm_up(self) -> None:
        """A job on each node, waited for: a cluster's first submissions wait for its job
        agents (seconds, at times tens), which is Ray's start-up, not what is tested."""
        ids = []
        for n, node in enumerate(self.nodes()):
            submission_id = f"warm-up-{n}"
            body = {
                "entrypoint": "true",
                "submission_id": submission_id,
                "entrypoint_num_cpus": 0.01,
                "entrypoint_label_selector": {"ray.io/node-id": node["node_id"]},
            }
            # Until an agent is up, Ray answers 5xx "No available agent to submit job".
            wait_for(
                lambda body=body: self._submitted(body),  # type: ignore[misc]
                f"Ray to take a job for node {node['node_id']}",
                120,
                every=0.2,
            )
            ids.append(submission_id)
        for submission_id in ids:
            wait_for(
                lambda s=submission_id: self._succeeded(s),  # type: ignore[misc]
                f"Ray's warm-up job {submission_id}",
                120,
                every=0.2,
            )

    def _submitted(self, body: dict[str, object]) -> bool:
        r = self.http.post("/api/jobs/", json=body, timeout=120)
        if r.status_code >= 500 and "No available agent" in r.text:
            return False
        assert r.status_code == 200, r.text
        return True

    def _succeeded(self, submission_id: str) -> bool:
        job = self.job(submission_id)
        assert job is None or job.get("status") != "FAILED", job
        return job is not None and job.get("status") == "SUCCEEDED"

    def nodes(self) -> list[dict[str, object]]:
        """The live nodes, as Ray's node list gives them (empty while it does not answer)."""
        try:
            r = self.http.get("/api/v0/nodes", params={"limit": 100, "detail": "true"})
        except httpx.TransportError:
            return []
        if r.status_code != 200:
            return []
        listing = r.json()["data"]["result"]["result"]
        return [n for n in listing if n.get("state") == "ALIVE"]

    def jobs(self) -> list[dict[str, object]]:
        r = self.http.get("/api/jobs/")
        assert r.status_code == 200, r.text
        jobs: list[dict[str, object]] = r.json()
        return jobs

    def job(self, submission_id: str) -> dict[str, object] | None:
        r = self.http.get(f"/api/jobs/{submission_id}")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        job: dict[str, object] = r.json()
        return job

    def stop_job(self, submission_id: str) -> None:
        r = self.http.post(f"/api/jobs/{submission_id}/stop")
        assert r.status_code == 200, r.text

    def kill(self) -> None:
        """SIGKILL every process of the cluster (its jobs' drivers too), as a crash would."""
        kill_marked(f"{MARKER}={self.root}", timeout=30)

    def restart(self) -> RayCluster:
        """A crashed head coming back on the same ports, with nothing of before: a Ray head
        without fault tolerance (no external Redis) forgets every job it had."""
        self.kill()
        shutil.rmtree(self.root / "t", ignore_errors=True)
        return self.start()

    def close(self) -> None:
        self.http.close()
        self.kill()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> RayCluster:
        try:
            return self.start()
        except BaseException:
            self.close()  # what did start must not outlive the failure
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
