"""Click to first statement through Ray: from just before `POST /api/runs/start` of a run with
``executor: ray`` to the trainer's first statement on a (warm) Ray node, against the same
request for a local run and against Ray's own job start (`POST /api/jobs/` of the bare trainer
command), in one run, alternating: first with the node's `vtm exec` starting cold, then with
a spare `vtm exec` waiting on the node (``vtm exec-spare``), each against Ray's own start
measured beside it.

The trainer is the start benchmark's (``catalog/trainers/stamp.py``: its first statement reads
``time.time()`` and writes it to ``--out``). The cluster is the test kit's (a head declaring no
GPU, from ``.venv-ray``), warmed up first; every start waits for the previous to finish.
What a VTM Ray run adds to Ray's own start: VTM's queue pass and submit, then on the node `vtm
exec` (cold: its interpreter and imports; with a spare: a small Python handing the command
over and a fork), the catalog check, the claim, and the supervisor.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

from vtm_testkit import wait_for
from vtm_testkit.exec_spare import ExecSpare
from vtm_testkit.ray_cluster import RayCluster

from bench.common import BENCH, ForeignLoad, Home, Result, Server, base_env, ms, summary

NAME = "ray-start"
RAY = BENCH.parent / ".venv-ray" / "bin" / "ray"
VTM = BENCH.parent / ".venv" / "bin" / "vtm"
SETTLE_SECONDS = 0.3
TARGET_EXTRA = 0.100  # seconds a VTM Ray run may add to Ray's own job start


def _stamp(path: Path, timeout: float = 120) -> float:
    wait_for(path.exists, f"{path.name} to be written", timeout, every=0.05)
    wait_for(lambda: path.read_text() != "", f"{path.name} to be filled", 10, every=0.01)
    return float(path.read_text())


def _vtm(server: Server, out: Path, executor: str) -> float:
    t0 = time.time()
    body = {"taskId": "stamp", "fields": {"out": str(out)}, "executor": executor}
    r = server.client.post("/api/runs/start", json=body)
    if r.status_code != 201:
        raise RuntimeError(f"start: {r.status_code} {r.text}")
    stamp = _stamp(out)
    server.wait_finished(r.json()["id"], timeout=120, every=0.1)
    return stamp - t0


def _ray_own(cluster: RayCluster, command: list[str], out: Path, n: int) -> float:
    argv = [*command[:-1], f"--out={out}"]
    body = {
        "entrypoint": shlex.join(argv),
        "submission_id": f"bench-{n}",
        "entrypoint_num_cpus": 0.1,
    }
    t0 = time.time()
    r = cluster.http.post("/api/jobs/", json=body, timeout=120)
    if r.status_code != 200:
        raise RuntimeError(f"Ray's submit: {r.status_code} {r.text}")
    stamp = _stamp(out)
    wait_for(
        lambda: (cluster.job(f"bench-{n}") or {}).get("status") == "SUCCEEDED",
        f"Ray job bench-{n} to end",
        120,
        every=0.1,
    )
    return stamp - t0


def run(quick: bool) -> Result:
    count = 5 if quick else 20
    result = Result(NAME)
    with Home(NAME) as home:
        # The node's VTM home lies in the benchmark's: ForeignLoad counts Ray's processes ours.
        env = {"VTM_HOME": str(home / "node"), "VTM_EXEC_SPARE": str(home / "spare.sock")}
        ray = RayCluster(RAY, head_gpus=0, node_gpus=0, env=env)
        with ray as cluster:
            _measure(home, cluster, count, result)
    return result


def _measure(home: Path, cluster: RayCluster, count: int, result: Result) -> None:
    settings = {"VTM_RAY_ADDRESS": cluster.address, "VTM_RAY_VTM": str(VTM)}
    samples: dict[str, list[float]] = {k: [] for k in ("local", "ray", "own", "spare", "own2")}
    with Server(home, **settings) as server, ForeignLoad() as load:
        stamps = home / "stamps"
        stamps.mkdir()
        warm = server.start_run("stamp", out=str(stamps / "warm-local"))
        command: list[str] = server.wait_finished(warm["id"])["command"]
        _vtm(server, stamps / "warm-ray", "ray")
        _ray_own(cluster, command, stamps / "warm-own", -1)
        take = _Taker(server, cluster, command, stamps, samples)
        take.alternate(("local", "ray", "own"), count)
        spare = Path(cluster.env["VTM_EXEC_SPARE"])
        with ExecSpare([str(VTM)], spare, home / "spare.log", base_env(home)):
            _vtm(server, stamps / "warm-spare", "ray")
            take.alternate(("spare", "own2"), count)
    _report(result, samples)
    result.details["load"] = load.describe()


class _Taker:
    def __init__(
        self,
        server: Server,
        cluster: RayCluster,
        command: list[str],
        stamps: Path,
        samples: dict[str, list[float]],
    ) -> None:
        self.server = server
        self.cluster = cluster
        self.command = command
        self.stamps = stamps
        self.samples = samples
        self._jobs = 0

    def alternate(self, kinds: tuple[str, ...], count: int) -> None:
        for i in range(count):
            n = i % len(kinds)
            for kind in kinds[n:] + kinds[:n]:  # each goes first in turn
                time.sleep(SETTLE_SECONDS)
                out = self.stamps / f"{kind}-{i}"
                if kind.startswith("own"):
                    self._jobs += 1
                    sample = _ray_own(self.cluster, self.command, out, self._jobs)
                else:
                    sample = _vtm(self.server, out, "local" if kind == "local" else "ray")
                self.samples[kind].append(sample)


def _report(result: Result, samples: dict[str, list[float]]) -> None:
    stats = {kind: summary(values) for kind, values in samples.items()}
    spare, own2 = stats["spare"], stats["own2"]
    ray, own, local = stats["ray"], stats["own"], stats["local"]
    extra = spare["p50"] - own2["p50"]
    result.row(
        "click → first statement on Ray (warm), spare vtm exec on the node, median",
        ms(spare["p50"]),
        ms(own2["p50"]) + " (Ray's own job start)",
        f"+{extra * 1000:.0f} ms",
        f"<= +{TARGET_EXTRA * 1000:.0f} ms",
        extra <= TARGET_EXTRA,
    )
    result.row("… p90", ms(spare["p90"]), ms(own2["p90"]))
    result.row(
        "click → first statement on Ray (warm), vtm exec started cold, median",
        ms(ray["p50"]),
        ms(own["p50"]) + " (Ray's own job start)",
        f"+{(ray['p50'] - own['p50']) * 1000:.0f} ms",
    )
    result.row("… p90", ms(ray["p90"]), ms(own["p90"]))
    result.row(
        "click → first statement, local run, median (same run)",
        ms(local["p50"]),
        "",
        f"Ray (spare) {spare['p50'] / local['p50']:.1f}x local",
    )
    details: dict[str, Any] = {kind: samples[kind] for kind in samples}
    details["summary"] = stats
    result.details.update(details)
