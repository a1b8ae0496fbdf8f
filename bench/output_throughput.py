"""Output throughput: a trainer printing a million 50-byte lines, under VTM and bare.

VTM: from just before `POST /api/runs/start` until a `GET /api/runs/{id}` (polled every
50 ms) shows the run completed, i.e. every line indexed. Bare: the same command started
with `subprocess.Popen`, stdout and stderr to a file, until it exits; with
``PYTHONUNBUFFERED=1`` as VTM's supervisor sets it (the baseline of the target), and
without it (block-buffered stdout, what a plain `python train.py > log` gives). The
trainer (``catalog/trainers/flood.py``) also times its own printing loop, so the cost VTM
puts on the trainer (CPU contention on a small machine) shows apart from the indexing lag.

Also checked: the server's peak RSS (``VmHWM``) after the runs, and that output.log and the
run's ``lineCount`` both hold exactly the lines printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
from vtm_client import VtmClient
from vtm_testkit import TERMINAL

from bench.common import (
    TRAINERS,
    ForeignLoad,
    Home,
    Result,
    Server,
    base_env,
    summary,
)

NAME = "throughput"
TARGET_RATIO = 1.15
TARGET_RSS = 250 * 1024**2
POLL_SECONDS = 0.05


def _trainer_times(out: Path) -> dict[str, float]:
    times: dict[str, float] = json.loads(out.read_text())
    return times


def _server_cpu(server: Server) -> float:
    times = psutil.Process(server.pid).cpu_times()
    return float(times.user + times.system)


def _vtm(server: Server, lines: int, out: Path) -> dict[str, Any]:
    cpu0 = _server_cpu(server)
    t0 = time.time()
    with VtmClient(server.url) as vtm:
        run_id = vtm.start_run("flood", {"lines": lines, "out": str(out)})["id"]
    deadline = time.monotonic() + 600
    while True:
        time.sleep(POLL_SECONDS)
        run = server.run(run_id)
        if run["status"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} did not finish in 600 s")
    wall = time.time() - t0
    server_cpu = _server_cpu(server) - cpu0
    if run["status"] != "completed":
        raise RuntimeError(f"run {run_id} ended {run['status']}: {run['error']}")
    with open(server.home / "runs" / run_id / "output.log", "rb") as log:
        log_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 20), b""))
    trainer = _trainer_times(out)
    return {
        "wall": wall,
        "trainer": trainer["duration"],
        "start_to_trainer": trainer["started"] - t0,
        "index_lag": t0 + wall - trainer["ended"],  # trainer's last line → seen completed
        "server_cpu": server_cpu,  # indexing, and answering the polls
        "log_lines": log_lines,
        "line_count": run["lineCount"],
    }


def _bare(command: list[str], env: dict[str, str], out: Path, log: Path) -> dict[str, Any]:
    argv = [a if not a.startswith("--out=") else f"--out={out}" for a in command]
    with open(log, "wb") as output:
        t0 = time.time()
        proc = subprocess.Popen(
            argv,
            cwd=TRAINERS.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        code = proc.wait(600)
        wall = time.time() - t0
    if code != 0:
        raise RuntimeError(f"bare trainer exited {code}")
    size = log.stat().st_size
    log.unlink()
    return {"wall": wall, "trainer": _trainer_times(out)["duration"], "bytes": size}


def run(quick: bool) -> Result:
    lines, reps = (100_000, 1) if quick else (1_000_000, 5)
    result = Result(NAME)
    with Home(NAME) as home, Server(home) as server, ForeignLoad() as load:
        outs = home / "outs"
        outs.mkdir()
        unbuffered = {**base_env(home), "PYTHONUNBUFFERED": "1"}
        buffered = base_env(home)
        buffered.pop("PYTHONUNBUFFERED", None)
        warm = server.start_run("flood", lines=1000, out=str(outs / "warm"))
        server.wait_finished(warm["id"])
        command = [
            a if not a.startswith("--lines=") else f"--lines={lines}" for a in warm["command"]
        ]
        idle_rss = server.peak_rss_bytes()
        samples: dict[str, list[dict[str, Any]]] = {"vtm": [], "unbuffered": [], "buffered": []}
        for rep in range(reps):
            order = ["vtm", "unbuffered", "buffered"]
            order = order[rep % 3 :] + order[: rep % 3]  # each goes first once
            for kind in order:
                time.sleep(0.5)
                out = outs / f"{kind}-{rep}"
                if kind == "vtm":
                    samples[kind].append(_vtm(server, lines, out))
                else:
                    env = unbuffered if kind == "unbuffered" else buffered
                    samples[kind].append(_bare(command, env, out, home / f"{kind}.log"))
        peak_rss = server.peak_rss_bytes()
    _report(result, samples, lines, peak_rss, idle_rss)
    result.details["load"] = load.describe()
    return result


def _report(
    result: Result,
    samples: dict[str, list[dict[str, Any]]],
    lines: int,
    peak_rss: int,
    idle_rss: int,
) -> None:
    def med(kind: str, key: str) -> float:
        return summary([s[key] for s in samples[kind]])["p50"]

    vtm, unbuf, buf = med("vtm", "wall"), med("unbuffered", "wall"), med("buffered", "wall")
    n = f"{lines:,} lines"
    result.row(
        f"{n}: wall, median",
        f"{vtm:.2f} s",
        f"{unbuf:.2f} s (bare, unbuffered)",
        f"{vtm / unbuf:.2f}x",
        f"<= {TARGET_RATIO}x",
        vtm / unbuf <= TARGET_RATIO,
    )
    result.row(
        f"{n}: vs bare block-buffered",
        f"{vtm:.2f} s",
        f"{buf:.2f} s (bare, buffered)",
        f"{vtm / buf:.2f}x",
    )
    result.row(
        f"{n}: trainer's own loop, median",
        f"{med('vtm', 'trainer'):.2f} s",
        f"{med('unbuffered', 'trainer'):.2f} s (bare, unbuffered)",
        f"{med('vtm', 'trainer') / med('unbuffered', 'trainer'):.2f}x",
    )
    result.row(
        f"{n}: last line -> seen completed",
        f"{med('vtm', 'index_lag'):.2f} s",
        "",
        f"start {med('vtm', 'start_to_trainer') * 1000:.0f} ms",
    )
    result.row(
        f"{n}: server CPU during the run",
        f"{med('vtm', 'server_cpu'):.2f} s",
        "",
        f"{med('vtm', 'server_cpu') / vtm:.0%} of one core",
    )
    result.row(
        "server peak RSS (VmHWM)",
        f"{peak_rss / 1024**2:.0f} MB",
        f"{idle_rss / 1024**2:.0f} MB (before the runs)",
        "",
        "<= 250 MB",
        peak_rss <= TARGET_RSS,
    )
    counts_ok = all(s["log_lines"] == lines and s["line_count"] == lines for s in samples["vtm"])
    got = sorted({(s["log_lines"], s["line_count"]) for s in samples["vtm"]})
    result.row(
        "every line logged and counted",
        ", ".join(f"log {a:,} / lineCount {b:,}" for a, b in got),
        f"{lines:,} printed",
        "",
        "all equal",
        counts_ok,
    )
    result.details.update(
        lines=lines,
        bytes_per_run=samples["unbuffered"][0]["bytes"],
        peak_rss_bytes=peak_rss,
        rss_before_runs_bytes=idle_rss,
        medians={
            kind: {key: med(kind, key) for key in samples[kind][0] if key != "bytes"}
            for kind in samples
        },
        samples=samples,
        cpus=os.cpu_count(),
    )
