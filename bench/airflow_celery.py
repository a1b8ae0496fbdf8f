"""Trigger to trainer start on Airflow's Celery workers, each step mode against VTM's API.

Airflow runs as `make airflow CELERY=1` runs it (``bench/airflow_env.py``: the CeleryExecutor,
Redis on loopback, one worker taking the queue ``bench``), warm (the DAGs parsed and unpaused,
each run once before measuring). Three paths start the same trainer
(``catalog/trainers/stamp.py``: its first statement writes ``time.time()`` to ``--out``):

- **Celery, mode exec**: ``POST /api/v2/dags/bench-exec/dagRuns``; the scheduler sends the
  task to Redis, the worker's task process imports the DAG file, and the ``VtmExecOperator``
  runs `vtm exec`, which registers the run with VTM and starts the trainer under its own
  supervisor on the worker;
- **Celery, mode api**: the same through ``bench-api``, whose ``VtmRunOperator`` on the worker
  asks VTM (``POST /api/runs/start``) and VTM starts the trainer;
- **VTM API**: ``POST /api/runs/start`` straight to VTM.

The time is from just before the request to the trainer's stamp. Samples rotate the order and
each waits for its DAG run or run to end and the machine to settle.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.airflow_env import Standalone
from bench.airflow_trigger import stamp_catalog, stamp_of, through_vtm
from bench.common import ForeignLoad, Home, Result, Server, ms, summary

NAME = "airflow-celery"
QUEUE = "bench"
MODES = ("exec", "api")
SETTLE_SECONDS = 1.0


def _dag(mode: str) -> str:
    return f"bench-{mode}"


def _catalog(folder: Path, stamps: Path) -> Path:
    return stamp_catalog(
        folder,
        {
            _dag(mode): {
                "steps": {
                    "stamp": {
                        "task": "stamp",
                        "queue": QUEUE,
                        "mode": mode,
                        "fields": {"out": f"{stamps}/{mode}-{{{{ run_id }}}}"},
                    }
                }
            }
            for mode in MODES
        },
    )


def _through_celery(airflow: Standalone, stamps: Path, mode: str, i: int) -> float:
    run_id = f"bench-{i}"
    t0 = time.time()
    airflow.trigger(_dag(mode), run_id)
    stamp = stamp_of(stamps / f"{mode}-{run_id}")
    airflow.wait_success(_dag(mode), run_id)
    return stamp - t0


def run(quick: bool) -> Result:
    count = 3 if quick else 10
    result = Result(NAME)
    with Home(NAME) as home:
        stamps = home / "stamps"
        stamps.mkdir()
        catalog = _catalog(home / "catalog", stamps)
        with (
            Server(home, VTM_CATALOG=str(catalog)) as server,
            Standalone(home / "airflow", catalog, server.url, celery_queues=QUEUE) as airflow,
        ):
            for mode in MODES:
                airflow.wait_dag(_dag(mode), timeout=180)
                airflow.unpause(_dag(mode))
                _through_celery(airflow, stamps, mode, -1)  # warm: parsed, scheduled, run once
            through_vtm(server, stamps, -1)
            samples: dict[str, list[float]] = {"exec": [], "api": [], "vtm": []}
            kinds = ("exec", "api", "vtm")
            with ForeignLoad(sessions=(airflow.sid,)) as load:
                for i in range(count):
                    for kind in kinds[i % 3 :] + kinds[: i % 3]:
                        time.sleep(SETTLE_SECONDS)
                        if kind == "vtm":
                            samples[kind].append(through_vtm(server, stamps, i)["total"])
                        else:
                            samples[kind].append(_through_celery(airflow, stamps, kind, i))
    _report(result, samples)
    result.details["load"] = load.describe()
    return result


def _report(result: Result, samples: dict[str, list[float]]) -> None:
    figures = {kind: summary(values) for kind, values in samples.items()}
    vtm = figures["vtm"]
    for kind, label in (("exec", "Celery, mode exec"), ("api", "Celery, mode api")):
        f = figures[kind]
        result.row(
            f"trigger → trainer start, {label}, median",
            f"{f['p50']:.2f} s",
            ms(vtm["p50"]) + " (VTM API)",
            f"{f['p50'] / vtm['p50']:.0f}x",
        )
        spread = f"{f['p90']:.2f} s ({f['min']:.2f} to {f['max']:.2f} s)"
        result.row(f"  {label}: p90 (min to max)", spread)
        result.details[kind] = f
    result.details["vtm"] = vtm
    result.details["samples"] = samples
