"""The queue: one scheduling pass, and `GET /api/runs?status=queued`, with 1,000 runs waiting.

Two runs of ``hold`` hold the two declared GPUs (``VTM_GPUS=0,1``) until their gate opens;
1,000 runs of ``hold`` and ``hold-two`` at five priorities wait behind them, and 2,000
finished runs of the same tasks, written to the store beforehand, give the start estimates
their medians. So every pass does the whole work: order the queue, place each run, estimate
each start from when each GPU comes free, compare each answer with the last.

- Pass: ``RunService.schedule()`` in this process, 200 times after a warm-up, beside the
  floor of the old way of passing: reading the queued rows from the store
  (``RunRepository.queued``), which a pass no longer does.
- List: a real `vtm serve` taking over the same home and store (the held runs go on), 500
  sequential `GET /api/runs?status=queued` (50 a page, each with its position, reason and
  estimate), alternating with `GET /api/health`, timed until the whole body has arrived.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from bench.common import CATALOG, ForeignLoad, Home, Result, Server, ms, summary
from vtm.api.runtime import freeze_start_up_heap
from vtm.catalog import CatalogHolder
from vtm.gpus import Inventory
from vtm.runs.queue import QueueBoard
from vtm.runs.service import RunService
from vtm.settings import Settings
from vtm.store import LaunchRecord, RunRepository, create_db_engine, migrate
from vtm.store.models import RunRow

NAME = "queue"
TARGET_PASS = 0.005
TARGET_LIST_P99 = 0.020
TASKS = ("hold", "hold-two")


def _finished(i: int, base: dt.datetime, rng: random.Random) -> dict[str, Any]:
    created = base + dt.timedelta(seconds=10 * i)
    started = created + dt.timedelta(seconds=1)
    task = TASKS[i % len(TASKS)]
    return {
        "id": f"{created:%Y%m%d-%H%M%S}-{i:06x}",
        "task_id": task,
        "status": "completed",
        "fields": {"gate": ""},
        "command": ["python", "trainers/hold.py", "--gate="],
        "launch": LaunchRecord(cwd="/srv/catalog", gpus=1 + i % 2).to_json(),
        "progress": {},
        "meta": {},
        "log_tail": [],
        "exit_code": 0,
        "created_at": created,
        "started_at": started,
        "finished_at": started + dt.timedelta(seconds=rng.uniform(60, 3600)),
        "updated_at": created,
        "gpus": [0],
        # Settled long ago: a server finding them would otherwise ask MLflow about each.
        "mlflow_settled_at": created,
    }


def populate(url: str, finished: int) -> None:
    """Earlier, finished runs of the tasks: what the start estimates' medians come from."""
    engine = create_db_engine(url)
    try:
        migrate(engine)
        rng = random.Random(7)
        base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        with engine.begin() as conn:
            conn.execute(insert(RunRow), [_finished(i, base, rng) for i in range(finished)])
    finally:
        engine.dispose()


def _time_passes(home: Path, queued: int, passes: int) -> dict[str, list[float]]:
    # What this process launches carries the home's marker, as a server's runs do: the
    # home's cleanup then finds the held runs' processes too.
    os.environ["VTM_HOME"] = str(home)
    settings = Settings(home=home, catalog=CATALOG, gpus="0,1", max_concurrent_runs=4)
    engine = create_db_engine(settings.effective_database_url)
    repo = RunRepository(engine)
    catalog = CatalogHolder(CATALOG)
    catalog.reload()
    inventory = Inventory(settings.gpus, settings.nvml_module)
    service = RunService(settings, catalog, repo, lambda kind, run: None, inventory, QueueBoard())
    times: dict[str, list[float]] = {"pass": [], "read": []}
    rng = random.Random(11)
    try:
        service.recover()
        freeze_start_up_heap()  # as a server does once it has started
        for n in range(2):
            gate = {"gate": str(home / f"gate-{n}")}
            if service.start("hold", gate).gpus == []:
                raise RuntimeError("a holding run did not get its GPU")
        for n in range(queued):
            service.start(TASKS[n % 4 == 0], {"gate": ""}, priority=rng.choice((0, 0, 0, 5, 10)))
        for i in range(10 + passes):  # the first 10 are the warm-up
            t0 = time.perf_counter()
            service.schedule()
            elapsed = time.perf_counter() - t0
            t0 = time.perf_counter()
            repo.queued()
            read = time.perf_counter() - t0
            if i >= 10:
                times["pass"].append(elapsed)
                times["read"].append(read)
        if service.active_count() != 2:
            raise RuntimeError("a pass started a run while the GPUs were held")
    finally:
        service.shutdown()  # the held runs go on: the server below takes them over
        engine.dispose()
    return times


def _time_list(server: Server, requests: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"list": [], "health": []}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(50 + requests):
            t0 = time.perf_counter()
            client.get("/api/health").raise_for_status()
            health = time.perf_counter() - t0
            t0 = time.perf_counter()
            r = client.get("/api/runs", params={"status": "queued"})
            elapsed = time.perf_counter() - t0
            runs = r.json()["runs"]
            if r.status_code != 200 or len(runs) != 50 or runs[0]["queue"] is None:
                raise RuntimeError(f"GET /api/runs?status=queued: {r.status_code} {r.text[:200]}")
            if i >= 50:
                times["list"].append(elapsed)
                times["health"].append(health)
    return times


def run(quick: bool) -> Result:
    queued, passes, requests = (1000, 50, 100) if quick else (1000, 200, 500)
    result = Result(NAME)
    with Home(NAME) as home:
        populate(f"sqlite:///{home / 'vtm.db'}", 2 * queued)
        with ForeignLoad() as load:
            passes_t = _time_passes(home, queued, passes)
            with Server(home, None, VTM_GPUS="0,1") as server:
                list_t = _time_list(server, requests)
                for n in range(2):
                    (home / f"gate-{n}").touch()
    stats = {name: summary(v) for name, v in {**passes_t, **list_t}.items()}
    p, read = stats["pass"], stats["read"]
    result.row(
        f"scheduling pass, {queued} queued",
        f"p50 {ms(p['p50'])}",
        f"p50 {ms(read['p50'])} (reading the queue)",
        f"{p['p50'] / read['p50']:.2f}x; p99 {ms(p['p99'])}",
        "pass <= 5 ms",
        p["p50"] <= TARGET_PASS,
    )
    lst, health = stats["list"], stats["health"]
    result.row(
        f"GET /api/runs?status=queued, {queued} queued",
        f"p99 {ms(lst['p99'])}",
        f"p99 {ms(health['p99'])} (GET /api/health)",
        f"p50 {ms(lst['p50'])}, p95 {ms(lst['p95'])}, max {ms(lst['max'])}",
        "p99 <= 20 ms",
        lst["p99"] <= TARGET_LIST_P99,
    )
    result.details.update(
        {"queued": queued, "stats": stats, "load": load.describe(), "samples": passes_t}
    )
    return result
