"""Start latency: from just before `POST /api/runs/start` to the trainer's first statement,
against the same trainer started bare with `subprocess.Popen`.

The trainer (``catalog/trainers/stamp.py``) reads ``time.time()`` as its first statement and
writes it to the file named by its ``--out`` flag, so both figures are exact: the same
clock read by the benchmark just before the request (or the Popen) and by the trainer.
VTM and bare starts alternate (which goes first alternates too), each run finishes and the
machine settles before the next start, so every VTM start finds the spare supervisor the
previous run left ready: the steady state. A warm-up of each comes first.

Besides the totals, each start is split where it can be: for VTM, at the moment the
supervisor's exec of the trainer succeeded (``startedAt`` of the run's ``pid.json``); for
bare, at Popen's return (which also waits for the exec). Before that split is VTM's (or
Popen's) own work, after it the interpreter's start-up.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.common import TRAINERS, ForeignLoad, Home, Result, Server, base_env, ms, summary

NAME = "start"
SETTLE_SECONDS = 0.3  # after a run: the new spare has started, the run's monitor has ended


def _read_stamp(path: Path) -> float:
    return float(path.read_text())


def _vtm_start(server: Server, out: Path) -> dict[str, float]:
    t0 = time.time()
    # Raw HTTP, not vtm_client: the answer's arrival is one of the measured times.
    r = server.client.post("/api/runs/start", json={"taskId": "stamp", "fields": {"out": str(out)}})
    t_response = time.time()
    if r.status_code != 201:
        raise RuntimeError(f"start: {r.status_code} {r.text}")
    run_id = r.json()["id"]
    time.sleep(0.1)  # no polling while the trainer starts: it would compete for the CPUs
    server.wait_finished(run_id, timeout=60)
    stamp = _read_stamp(out)
    pids = json.loads((server.home / "runs" / run_id / "pid.json").read_text())
    return {
        "total": stamp - t0,
        "to_exec": float(pids["startedAt"]) - t0,
        "after_exec": stamp - float(pids["startedAt"]),
        "response": t_response - t0,
    }


def _bare_start(command: list[str], env: dict[str, str], out: Path, log: Path) -> dict[str, float]:
    argv = [*command[:-1], f"--out={out}"]
    with open(log, "ab") as output:
        t0 = time.time()
        proc = subprocess.Popen(
            argv,
            cwd=TRAINERS.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # as VTM starts it: in a session of its own
        )
        t_exec = time.time()
    time.sleep(0.1)
    if proc.wait(60) != 0:
        raise RuntimeError(f"bare trainer exited {proc.returncode}")
    stamp = _read_stamp(out)
    return {"total": stamp - t0, "to_exec": t_exec - t0, "after_exec": stamp - t_exec}


def run(quick: bool) -> Result:
    count = 8 if quick else 40
    result = Result(NAME)
    with Home(NAME) as home, Server(home) as server, ForeignLoad() as load:
        stamps = home / "stamps"
        stamps.mkdir()
        env = {**base_env(home), "PYTHONUNBUFFERED": "1"}
        warm = server.start_run("stamp", out=str(stamps / "warm-vtm"))
        server.wait_finished(warm["id"])
        command: list[str] = warm["command"]  # [python, stamp.py, --out=...]: the same trainer
        if not command[-1].startswith("--out="):
            raise RuntimeError(f"unexpected command {command}")
        _bare_start(command, env, stamps / "warm-bare", home / "bare.log")
        vtm: list[dict[str, float]] = []
        bare: list[dict[str, float]] = []
        for i in range(count):
            order = ("vtm", "bare") if i % 2 == 0 else ("bare", "vtm")
            for kind in order:
                time.sleep(SETTLE_SECONDS)
                if kind == "vtm":
                    vtm.append(_vtm_start(server, stamps / f"vtm-{i}"))
                else:
                    bare.append(_bare_start(command, env, stamps / f"bare-{i}", home / "bare.log"))
    _report(result, vtm, bare)
    result.details["load"] = load.describe()
    return result


def _report(result: Result, vtm: list[dict[str, float]], bare: list[dict[str, float]]) -> None:
    def stats(samples: list[dict[str, float]], key: str) -> dict[str, float]:
        return summary([s[key] for s in samples])

    v, b = stats(vtm, "total"), stats(bare, "total")
    ratio = v["p50"] / b["p50"]
    result.row(
        "start latency, median",
        ms(v["p50"]),
        ms(b["p50"]) + " (Popen)",
        f"{ratio:.2f}x",
        "<= 1.5x",
        ratio <= 1.5,
    )
    result.row(
        "start latency, p90",
        ms(v["p90"]),
        ms(b["p90"]) + " (Popen)",
        f"{v['p90'] / b['p90']:.2f}x",
    )
    v_exec, b_exec = stats(vtm, "to_exec"), stats(bare, "to_exec")
    v_after, b_after = stats(vtm, "after_exec"), stats(bare, "after_exec")
    result.row(
        "  of which: to the exec, median",
        ms(v_exec["p50"]),
        ms(b_exec["p50"]) + " (Popen)",
        f"+{(v_exec['p50'] - b_exec['p50']) * 1000:.1f} ms",
    )
    result.row(
        "  of which: exec to 1st statement, median",
        ms(v_after["p50"]),
        ms(b_after["p50"]),
        f"+{(v_after['p50'] - b_after['p50']) * 1000:.1f} ms",
    )
    details: dict[str, Any] = {
        "vtm": {k: stats(vtm, k) for k in vtm[0]},
        "bare": {k: stats(bare, k) for k in bare[0]},
        "ratio_of_medians": ratio,
        "samples": {"vtm": vtm, "bare": bare},
    }
    result.details.update(details)
