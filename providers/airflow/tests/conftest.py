"""One Airflow home and two real VTM servers for the whole session.

Airflow reads its configuration when it is first imported, so the environment is set here,
before any test module imports it (the test kit's ``airflow_home.environment``): a fresh
``AIRFLOW_HOME`` (SQLite) in a temporary folder, which gets the test kit's migrated database on
first use, the DAGs folder ``dag_files/`` (``dag.test()`` runs only DAGs that Airflow parsed
from a DAG bundle), and two ``vtm`` connections:

- ``vtm_default``: `vtm serve` of the sample catalog (examples/training_catalog.yaml), which the
  pilot DAGs use with the real example trainers;
- ``vtm_test``: `vtm serve` of trainers/catalog.yaml, a small step trainer for retries,
  failures, timeouts, restarts and backfills.

Each server starts on first use and is shared by the tests after it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vtm_testkit import airflow_home

from vtm_server import REPO, VtmServer, free_port

TESTS = Path(__file__).resolve().parent
DAG_FILES = TESTS / "dag_files"
SAMPLE_CATALOG = REPO / "examples" / "training_catalog.yaml"
TEST_CATALOG = TESTS / "trainers" / "catalog.yaml"

SESSION_DIR = Path(tempfile.mkdtemp(prefix="vtm-airflow-tests-"))
AIRFLOW_HOME = SESSION_DIR / "airflow"
SAMPLE_PORT, TEST_PORT = free_port(), free_port()


def _connection(port: int) -> str:
    return json.dumps({"conn_type": "vtm", "host": "127.0.0.1", "port": port, "schema": "http"})


# Nothing of the caller's Airflow (its database, its connections) may leak into the tests.
_environment = airflow_home.environment(AIRFLOW_HOME, DAG_FILES, strip=("AIRFLOW",))
os.environ.clear()
os.environ.update(
    _environment,
    AIRFLOW_CONN_VTM_DEFAULT=_connection(SAMPLE_PORT),
    AIRFLOW_CONN_VTM_TEST=_connection(TEST_PORT),
    MLFLOW_DISABLE_TELEMETRY="true",
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database: the test kit's, migrated by `airflow db migrate` of this
    environment, copied into the session's home before anything here opens it."""
    airflow_home.new_home(AIRFLOW_HOME, Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="session")
def dags(airflow_db: None) -> dict[str, Any]:
    """Every DAG of dag_files/, parsed the way Airflow parses a DAG bundle."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAG_FILES))
    assert not bag.import_errors, bag.import_errors
    return dict(bag.dags)


def _server(name: str, catalog: Path, port: int) -> Iterator[VtmServer]:
    server = VtmServer(SESSION_DIR / name, catalog=catalog, port=port).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def sample_vtm() -> Iterator[VtmServer]:
    """VTM serving the sample catalog: connection ``vtm_default``."""
    yield from _server("vtm-sample", SAMPLE_CATALOG, SAMPLE_PORT)


@pytest.fixture(scope="session")
def test_vtm() -> Iterator[VtmServer]:
    """VTM serving trainers/catalog.yaml: connection ``vtm_test``."""
    yield from _server("vtm-test", TEST_CATALOG, TEST_PORT)
