"""Shared test machinery: the test kit's real `vtm serve` serving the test catalog (with
``start_run``'s task defaulting to ``scripted``), PostgreSQL databases, VTM homes, and the
kit's waiting, port and process helpers under the names the tests use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from vtm_client import SseEvent, VtmClient
from vtm_testkit import VtmServer, free_port, processes_with_env, wait_for
from vtm_testkit import mlflow_store as _mlflow_store
from vtm_testkit.processes import kill_home as kill_everything_of

__all__ = [
    "POSTGRES_ADMIN_URL",
    "TESTS",
    "TEST_CATALOG",
    "Server",
    "copy_mlflow_store",
    "events_of_a_new_run",
    "free_port",
    "kill_everything_of",
    "postgres_database",
    "processes_with_env",
    "stop_leftovers",
    "vtm_home_at",
    "wait_for",
]

TESTS = Path(__file__).resolve().parent
TEST_CATALOG = TESTS / "trainers" / "catalog.yaml"
POSTGRES_ADMIN_URL = os.environ.get(
    "VTM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


class Server(VtmServer):
    """`vtm serve` of the test catalog, eight runs at a time (see vtm_testkit.server)."""

    default_catalog = TEST_CATALOG
    default_task = "scripted"
    max_concurrent_runs = 8
    forked = True


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vtm_home_at(path: Path) -> Iterator[Path]:
    """A fresh VTM home at ``path`` for a fixture to yield from; afterwards every process
    started for it (servers, supervisors, trainers, `vtm exec`) is killed."""
    path.mkdir()
    yield path
    kill_everything_of(path)


def copy_mlflow_store(home: Path) -> Path:
    """``home``/mlflow: a ready embedded MLflow store (created once per session by VTM's
    ``init_store``, copied here in milliseconds)."""
    return _mlflow_store.copy_into(home)


def events_of_a_new_run(vtm: VtmClient, start: Callable[[], str]) -> Iterator[SseEvent]:
    """The event stream, with the run ``start`` starts (it returns the run's id) once the
    stream is open: a new stream replays nothing from before it, and a fast trainer's first
    updates would come in between. Other runs' events are left out; the rest (``hello``,
    ``disconnected``…) pass."""
    run_id = ""
    for event in vtm.events():
        if event.type == "hello" and not run_id:
            run_id = start()
            continue
        if event.type.startswith("run.") and event.json()["id"] != run_id:
            continue
        yield event


def stop_leftovers(server: Server) -> list[str]:
    """Stop every queued or running run of ``server`` and wait for each to end; their ids.
    A test sharing a server must not leave one: the next test would find it."""
    page = server.client.get("/api/runs", params={"status": ["queued", "running"], "limit": 200})
    left = [str(r["id"]) for r in page.json()["runs"]]
    for run_id in left:
        server.client.post(f"/api/runs/{run_id}/stop")
    for run_id in left:
        server.wait_status(run_id)
    return left
