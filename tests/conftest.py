from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Server, copy_mlflow_store, postgres_database, vtm_home_at
from vtm.settings import Settings

# MLflow would otherwise try to send usage data from every test process and trainer.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that touches the store runs against SQLite and PostgreSQL."""
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
def server(vtm_home: Path, database_url: str) -> Iterator[Server]:
    srv = Server(vtm_home, database_url).start()
    yield srv
    srv.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in this
    thread while its session-wide browser lives, and other tests start their own loops."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))
