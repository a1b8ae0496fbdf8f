"""Trigger to trainer start through Airflow (standalone, warm) against through VTM's API.

Both paths start the same trainer (``catalog/trainers/stamp.py``: its first statement reads
``time.time()`` and writes it to ``--out``) through the same `vtm serve`:

- **Airflow**: ``POST /api/v2/dags/bench-stamp/dagRuns`` on a warm `airflow standalone`
  (SQLite, LocalExecutor, parallelism 4; the pipeline's DAG parsed and unpaused, one DAG run
  done before measuring). The scheduler queues the task, a LocalExecutor worker starts the task
  process, which imports the DAG file (reading the catalog), and the ``VtmRunOperator``
  calls ``POST /api/runs/start``;
- **VTM**: ``POST /api/runs/start`` straight to VTM.

The time is from just before the request to the trainer's stamp; for Airflow it is also split
at the VTM run's ``createdAt`` (the operator's request reached VTM). Samples alternate, each
waits for its DAG run or run to end and the machine to settle.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from vtm_client import VtmClient
from vtm_testkit import wait_for

from bench.airflow_env import Standalone
from bench.common import TRAINERS, ForeignLoad, Home, Result, Server, ms, summary

NAME = "airflow"
DAG = "bench-stamp"
SETTLE_SECONDS = 1.0


def stamp_catalog(folder: Path, pipelines: dict[str, Any]) -> Path:
    """A catalog in ``folder`` with the ``stamp`` task and these ``pipelines``."""
    (folder / "trainers").mkdir(parents=True)
    shutil.copy(TRAINERS / "stamp.py", folder / "trainers" / "stamp.py")
    document: dict[str, Any] = {
        "version": 1,
        "baseTaskTypes": {
            "bench": {
                "description": "Benchmark trainers",
                "primaryMetric": {"name": "loss", "goal": "min"},
                "fields": {"out": {"type": "path", "default": ""}},
            }
        },
        "tasks": {"stamp": {"baseTaskType": "bench", "runner": {"target": "trainers/stamp.py"}}},
        "pipelines": pipelines,
    }
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _catalog(folder: Path, stamps: Path) -> Path:
    step = {"task": "stamp", "fields": {"out": f"{stamps}/{{{{ run_id }}}}"}}
    return stamp_catalog(folder, {DAG: {"steps": {"stamp": step}}})


def stamp_of(path: Path) -> float:
    def probe() -> float | None:
        try:
            return float(path.read_text())
        except (OSError, ValueError):  # not there yet, or being written
            return None

    return wait_for(probe, f"the trainer's stamp {path.name}", timeout=120, every=0.01)


def _created_at(server: Server, dag_run: str) -> float:
    with VtmClient(server.url) as vtm:
        runs = vtm.list_runs(limit=20)["runs"]
    [run] = [r for r in runs if (r["origin"].get("airflow") or {}).get("runId") == dag_run]
    return datetime.fromisoformat(run["createdAt"]).timestamp()


def _through_airflow(airflow: Standalone, server: Server, stamps: Path, i: int) -> dict[str, float]:
    run_id = f"bench-{i}"
    t0 = time.time()
    airflow.trigger(DAG, run_id)
    stamp = stamp_of(stamps / run_id)
    airflow.wait_success(DAG, run_id)
    created = _created_at(server, run_id)
    return {"total": stamp - t0, "to_vtm": created - t0, "vtm_to_trainer": stamp - created}


def through_vtm(server: Server, stamps: Path, i: int) -> dict[str, float]:
    out = stamps / f"vtm-{i}"
    t0 = time.time()
    run = server.start_run("stamp", out=str(out))
    stamp = stamp_of(out)
    server.wait_finished(run["id"])
    return {"total": stamp - t0}


def run(quick: bool) -> Result:
    count = 3 if quick else 12
    result = Result(NAME)
    with Home(NAME) as home:
        stamps = home / "stamps"
        stamps.mkdir()
        catalog = _catalog(home / "catalog", stamps)
        with (
            Server(home, VTM_CATALOG=str(catalog)) as server,
            Standalone(home / "airflow", catalog, server.url) as airflow,
        ):
            airflow.wait_dag(DAG, timeout=180)
            airflow.unpause(DAG)
            _through_airflow(airflow, server, stamps, -1)  # warm: parsed, scheduled, run once
            through_vtm(server, stamps, -1)
            via_airflow: list[dict[str, float]] = []
            via_vtm: list[dict[str, float]] = []
            with ForeignLoad(sessions=(airflow.sid,)) as load:
                for i in range(count):
                    order = ("airflow", "vtm") if i % 2 == 0 else ("vtm", "airflow")
                    for kind in order:
                        time.sleep(SETTLE_SECONDS)
                        if kind == "airflow":
                            via_airflow.append(_through_airflow(airflow, server, stamps, i))
                        else:
                            via_vtm.append(through_vtm(server, stamps, i))
    _report(result, via_airflow, via_vtm)
    result.details["load"] = load.describe()
    return result


def _report(result: Result, airflow: list[dict[str, float]], vtm: list[dict[str, float]]) -> None:
    a = summary([s["total"] for s in airflow])
    v = summary([s["total"] for s in vtm])
    result.row(
        "trigger → trainer start, median",
        f"{a['p50']:.2f} s (Airflow)",
        ms(v["p50"]) + " (VTM API)",
        f"{a['p50'] / v['p50']:.0f}x",
    )
    result.row(
        "trigger → trainer start, p90",
        f"{a['p90']:.2f} s (Airflow)",
        ms(v["p90"]) + " (VTM API)",
        f"{a['p90'] / v['p90']:.0f}x",
    )
    to_vtm = summary([s["to_vtm"] for s in airflow])
    after = summary([s["vtm_to_trainer"] for s in airflow])
    result.row(
        "  Airflow: trigger → VTM run created, median",
        f"{to_vtm['p50']:.2f} s",
        "",
        f"min {to_vtm['min']:.2f}, max {to_vtm['max']:.2f} s",
    )
    result.row("  Airflow: VTM run created → trainer, median", ms(after["p50"]))
    result.details.update(
        {
            "airflow": {k: summary([s[k] for s in airflow]) for k in airflow[0]},
            "vtm": v,
            "ratio_of_medians": a["p50"] / v["p50"],
            "samples": {"airflow": airflow, "vtm": vtm},
        }
    )
