from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Server, copy_mlflow_store, postgres_database, stop_leftovers, vtm_home_at
from vtm.settings import Settings

# MLflow would otherwise try to send usage data from every test process and trainer.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

# A shell without job control starts a background command (`make test &` in a script) with
# SIGINT ignored, and every process it starts inherits that: the tests that press Ctrl-C on
# `vtm run --follow` or `make airflow` would find it deaf. A handler is reset to the default
# on exec, so the processes the tests start get Ctrl-C as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


BOTH_DATABASES = "both_databases"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """VTM's store on SQLite, and on PostgreSQL too where the store is what is tested
    (``@pytest.mark.both_databases``): the ids ``[sqlite]`` and ``[postgresql]``."""
    if "database_url" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker(BOTH_DATABASES) is not None
        kinds = ["sqlite", "postgresql"] if both else ["sqlite"]
        metafunc.parametrize("database_url", kinds, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vtm.db'}"
        return
    with postgres_database(f"vtm_test_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """VTM's store on SQLite only, for tests whose subject lies elsewhere (MLflow's side, the
    child servers, publish's uploads): the store runs on both databases in the others."""
    return f"sqlite:///{tmp_path / 'vtm.db'}"


@pytest.fixture
def vtm_home(tmp_path: Path) -> Iterator[Path]:
    yield from vtm_home_at(tmp_path / "home")


@pytest.fixture
def mlflow_store(vtm_home: Path) -> Path:
    """The test home's embedded MLflow store, ready: a copy of the one made for the session,
    so that neither the test nor a trainer spends seconds creating its tables."""
    return copy_mlflow_store(vtm_home)


@pytest.fixture
def mlflow_settings(vtm_home: Path, mlflow_store: Path) -> Settings:
    """Settings whose embedded MLflow store (SQLite + local artifacts) lives in the test's home."""
    return Settings(home=vtm_home, catalog=vtm_home / "training_catalog.yaml")


@pytest.fixture
def fresh_server(vtm_home: Path, database_url: str) -> Iterator[Server]:
    """A server of the test's own: for tests that kill or restart it, change its settings,
    or look at every run it holds."""
    srv = Server(vtm_home, database_url).start()
    yield srv
    srv.close()


@pytest.fixture
def server(fresh_server: Server) -> Server:
    """A fresh server, unless the module says its tests share one (``shared_server``)."""
    return fresh_server


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("shared-server")
    for home in vtm_home_at(root / "home"):
        srv = Server(home, f"sqlite:///{root / 'vtm.db'}").start()
        try:
            yield srv
        finally:
            srv.close()


@pytest.fixture
def shared_server(module_server: Server) -> Iterator[Server]:
    """The module's server (SQLite), for tests that only start runs and read their own back.
    A test that leaves a run queued or running fails, and its runs are stopped, so that
    nothing leaks into the next test."""
    yield module_server
    left = stop_leftovers(module_server)
    if left:
        pytest.fail(f"the test left active run(s) behind on the shared server: {left}")


# Files with any of these tests take minutes, not seconds (Airflow and Ray start, framework
# trainers import for seconds each, sample models train).
FIRST = ("airflow", "frameworks", "ray")
EARLY = ("slow", "both_databases")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first. Under pytest-xdist (``make unit``: ``--dist loadfile
    --no-loadscope-reorder``) each worker takes whole files in this order (a module's shared
    server or Airflow is set up once), so the long ones start at once instead of last, and
    the short ones fill in around them."""
    rank: dict[Path, int] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        own = 0 if marks.intersection(FIRST) else 1 if marks.intersection(EARLY) else 2
        rank[item.path] = min(rank.get(item.path, own), own)
    items.sort(key=lambda item: rank[item.path])  # stable: a file's tests keep their order
