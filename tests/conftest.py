from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Server, kill_everything_of, postgres_database
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
def vtm_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home
    kill_everything_of(home)


@pytest.fixture
def mlflow_settings(vtm_home: Path) -> Settings:
    """Settings whose embedded MLflow store (SQLite + local artifacts) lives in the test's home."""
    return Settings(home=vtm_home, catalog=vtm_home / "training_catalog.yaml")


@pytest.fixture
def server(vtm_home: Path, database_url: str) -> Iterator[Server]:
    srv = Server(vtm_home, database_url).start()
    yield srv
    srv.stop()
    srv.client.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in this
    thread while its session-wide browser lives, and other tests start their own loops."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))
