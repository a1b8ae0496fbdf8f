"""Airflow homes for tests: Airflow's metadata database migrated once per process (`airflow db
migrate` by the given Airflow) and copied into each new home, and the environment that points
an Airflow at a home and at nothing of the caller's Airflow.

Only ``airflow.db`` is copied: the ``airflow.cfg`` that Airflow writes names its home's
folders, and each home gets its own when Airflow first runs there.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from vtm_testkit.commands import run_to_make

DATABASE = "airflow.db"

_templates: dict[Path, Path] = {}
_lock = threading.Lock()


def environment(
    home: Path,
    dags: Path,
    base: Mapping[str, str] | None = None,
    strip: tuple[str, ...] = ("AIRFLOW", "VTM_"),
) -> dict[str, str]:
    """``base`` (default: this process's environment) without variables starting with
    ``strip`` (the caller's Airflow and VTM settings), plus ``home`` as AIRFLOW_HOME, ``dags``
    as the DAGs folder, no example DAGs and four task slots (what `make airflow` sets)."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(strip)}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__PARALLELISM="4",
    )
    return env


def template(airflow: Path) -> Path:
    """A home holding only a migrated ``airflow.db``, made once in this process by the
    ``airflow`` command given, removed at exit."""
    with _lock:
        if airflow not in _templates:
            _templates[airflow] = _migrate(airflow)
        return _templates[airflow]


def _migrate(airflow: Path) -> Path:
    if not airflow.exists():
        raise AssertionError(f"no Airflow at {airflow}: `make airflow-env` creates it")
    root = Path(tempfile.mkdtemp(prefix="vtm-testkit-airflow-")).resolve()
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    work = root / "work"
    work.mkdir()
    env = environment(work, work / "dags")
    run_to_make([str(airflow), "db", "migrate"], work / DATABASE, env, cwd=work)
    home = root / "home"
    home.mkdir()
    shutil.copy2(work / DATABASE, home / DATABASE)
    return home


def new_home(home: Path, airflow: Path) -> Path:
    """``home`` (created if need be) with a copy of the migrated database, which it must not
    have yet (an Airflow may hold it open); ``home``."""
    source = template(airflow) / DATABASE
    home.mkdir(parents=True, exist_ok=True)
    target = home / DATABASE
    if target.exists():
        raise FileExistsError(f"{target} exists: a new home gets a fresh database")
    partial = home / f".{DATABASE}.copying"
    shutil.copy2(source, partial)
    partial.rename(target)
    return home
