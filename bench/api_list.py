"""API list: `GET /api/runs?limit=50` (and `status=completed`) with 10,000 runs stored.

The database is filled before the server starts, through ``vtm.store`` (engine, migration,
the ORM's tables) with bulk inserts of rows shaped like real finished runs: resolved fields,
the command, a progress dict with metrics, an MLflow id, a 50-line log tail of ~80-character
lines, timestamps, and 20 metric points each. Then 500 sequential requests of each query,
alternating with `GET /api/health` (the baseline: the same server's answer to a trivial
request), from one `httpx.Client` on loopback after a warm-up; each is timed from just
before the request until the whole response body has arrived (the client's JSON parsing of
it comes after the clock stops). On SQLite (the default) and, when it answers,
on PostgreSQL (a fresh database ``vtm_bench``, dropped afterwards).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
from sqlalchemy import insert

from bench.common import ForeignLoad, Home, Result, Server, ms, summary
from vtm.store import LaunchRecord, create_db_engine, migrate
from vtm.store.models import MetricPointRow, RunRow

NAME = "api-list"
TARGET_P99 = 0.020
POSTGRES_ADMIN_URL = os.environ.get(
    "VTM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "vtm_bench"
TASKS = ("digits-cnn", "digits-mlp", "segment-unet", "plain-argparse", "detect-yolo")
QUERIES: dict[str, dict[str, str | int]] = {
    "limit=50": {"limit": 50},
    "status=completed&limit=50": {"status": "completed", "limit": 50},
}
FLOOR = "health"  # GET /api/health, timed alongside: the server's floor for a small answer


def _run_row(i: int, base: dt.datetime, rng: random.Random) -> dict[str, Any]:
    created = base + dt.timedelta(seconds=40 * i)
    started = created + dt.timedelta(milliseconds=30)
    finished = started + dt.timedelta(seconds=rng.uniform(20, 3600))
    roll = rng.random()
    status, code, error = "completed", 0, None
    if roll > 0.95:
        status, code, error = "stopped", -15, "stopped on request"
    elif roll > 0.85:
        status, code, error = "failed", 1, "exited with code 1"
    task = TASKS[i % len(TASKS)]
    epochs = rng.randint(5, 50)
    fields = {
        "epochs": epochs,
        "batch_size": 64,
        "lr": round(rng.uniform(1e-4, 1e-2), 6),
        "device": "auto",
        "seed": i,
        "augment": bool(i % 2),
        "optimizer": "adam",
    }
    command = ["/opt/venv/bin/python", f"/srv/catalog/trainers/{task}.py"] + [
        f"--{k}={v}" for k, v in fields.items() if not isinstance(v, bool)
    ]
    tail = [
        f"epoch {epochs - 49 + j:3d}/{epochs} step {j * 37:5d} loss {rng.random():.4f} "
        f"acc {rng.random():.4f} lr {fields['lr']:.2e} {rng.random() * 100:5.1f} img/s"
        for j in range(50)
    ]
    progress = {
        "epoch": epochs,
        "total_epochs": epochs,
        "train_loss": rng.random(),
        "val_loss": rng.random(),
        "val_accuracy": rng.random(),
        "lr": fields["lr"],
        "device": "cuda:0",
    }
    mlflow = f"{rng.getrandbits(128):032x}"
    return {
        "id": f"{created:%Y%m%d-%H%M%S}-{i:06x}",
        "task_id": task,
        "status": status,
        "fields": fields,
        "command": command,
        "launch": LaunchRecord(cwd="/srv/catalog", gpus=1, mlflow_experiment=task).to_json(),
        "progress": progress,
        "meta": {"mlflow_run_id": mlflow},
        "mlflow_run_id": mlflow,
        "log_tail": tail,
        "exit_code": code,
        "error": error,
        "created_at": created,
        "started_at": started,
        "finished_at": finished,
        "updated_at": finished,
        "log_offset": 80 * 1000 * epochs,
        "at_line_start": True,
        "line_count": 1000 * epochs,
        "progress_count": epochs,
        "protocol_errors": 0,
        "stop_requested": status == "stopped",
        "gpus": [0],
    }


def populate(url: str, count: int) -> float:
    """Store ``count`` finished runs (and 20 metric points each); seconds it took."""
    t0 = time.monotonic()
    engine = create_db_engine(url)
    try:
        migrate(engine)
        rng = random.Random(42)
        base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        batch = 1000
        for first in range(0, count, batch):
            runs = [_run_row(i, base, rng) for i in range(first, min(first + batch, count))]
            points = [
                {
                    "run_id": run["id"],
                    "name": name,
                    "step": step,
                    "value": rng.random(),
                    "recorded_at": run["started_at"] + dt.timedelta(seconds=step),
                }
                for run in runs
                for step in range(1, 11)
                for name in ("val_accuracy", "train_loss")
            ]
            with engine.begin() as conn:
                conn.execute(insert(RunRow), runs)
                conn.execute(insert(MetricPointRow), points)
    finally:
        engine.dispose()
    return time.monotonic() - t0


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{PG_DATABASE}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def _time_queries(server: Server, requests: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in [*QUERIES, FLOOR]}
    # Raw httpx, not vtm_client: the clock must stop when the body has arrived, before the
    # JSON is parsed, which the client does inside its call.
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(50 + requests):  # the first 50 are the warm-up
            t0 = time.perf_counter()
            r = client.get("/api/health")
            if i >= 50:
                times[FLOOR].append(time.perf_counter() - t0)
            r.raise_for_status()
            for name, params in QUERIES.items():
                t0 = time.perf_counter()
                r = client.get("/api/runs", params=params)  # returns with the whole body read
                elapsed = time.perf_counter() - t0
                body = r.json()  # the client's own parsing is not the server's latency
                if r.status_code != 200 or len(body["runs"]) != 50:
                    raise RuntimeError(f"GET /api/runs?{name}: {r.status_code} {r.text[:200]}")
                if i >= 50:
                    times[name].append(elapsed)
    return times


def _measure(
    result: Result, backend: str, database_url: str | None, count: int, requests: int
) -> None:
    with Home(f"{NAME}-{backend.lower()}") as home:
        url = database_url or f"sqlite:///{home / 'vtm.db'}"
        fill = populate(url, count)
        with Server(home, database_url) as server, ForeignLoad() as load:
            page = server.client.get("/api/runs", params={"limit": 50})
            times = _time_queries(server, requests)
    stats = {name: summary(samples) for name, samples in times.items()}
    floor = stats[FLOOR]
    for name in QUERIES:
        s = stats[name]
        result.row(
            f"GET /api/runs?{name}, {backend}",
            f"p99 {ms(s['p99'])}",
            f"p99 {ms(floor['p99'])} (GET /api/health)",
            f"p50 {ms(s['p50'])}, p95 {ms(s['p95'])}, max {ms(s['max'])}",
            "p99 <= 20 ms",
            s["p99"] <= TARGET_P99,
        )
    result.details[backend] = {
        "runs": count,
        "requests": requests,
        "populate_s": round(fill, 2),
        "response_bytes": len(page.content),
        "stats": stats,
        "samples": times,
        "load": load.describe(),
    }


def run(quick: bool) -> Result:
    count, requests = (2000, 100) if quick else (10_000, 500)
    result = Result(NAME)
    _measure(result, "SQLite", None, count, requests)
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        result.details["PostgreSQL"] = f"skipped, not reachable: {exc}"
    else:
        with postgres_database() as pg_url:
            _measure(result, "PostgreSQL", pg_url, count, requests)
    result.details["load"] = _merge_loads(result.details)
    return result


def _merge_loads(details: dict[str, Any]) -> dict[str, float]:
    loads = [d["load"] for d in details.values() if isinstance(d, dict) and "load" in d]
    cpu = sum(x["foreign_cpu_s"] for x in loads)
    wall = sum(x["wall_s"] for x in loads)
    return {"foreign_cpu_s": cpu, "wall_s": wall, "foreign_cores": cpu / wall if wall else 0.0}
