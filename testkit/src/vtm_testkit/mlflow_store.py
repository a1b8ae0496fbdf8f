"""An embedded MLflow store (``$VTM_HOME/mlflow``: SQLite and local artifacts) made once per
process by VTM's own ``init_store``, copied into each home that needs one.

Creating a store's tables takes seconds of CPU (MLflow's migrations); a copy takes
milliseconds. The kit never imports VTM or MLflow: the template is made by VTM's Python in a
subprocess. What the store records of its own folder (the artifact location of MLflow's
"Default" experiment) is rewritten to the copy's, so a copy is the store VTM would have
created in that home.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path

from vtm_testkit.commands import run_to_make
from vtm_testkit.server import CALLERS

STORE = "mlflow"  # the store's folder in a VTM home
DATABASE = "mlflow.db"
ARTIFACTS = "artifacts"

_CREATE = """
import sys
from pathlib import Path
from vtm.integrations.mlflow.store import init_store
from vtm.settings import Settings
home = Path(sys.argv[1])
init_store(Settings(home=home, catalog=home / "training_catalog.yaml"))
"""

_templates: dict[str, Path] = {}
_lock = threading.Lock()


def template(python: str = sys.executable) -> Path:
    """The store folder made once in this process by ``python`` (VTM's), removed at exit."""
    with _lock:
        if python not in _templates:
            _templates[python] = _create(python)
        return _templates[python]


def _create(python: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix="vtm-testkit-mlflow-")).resolve()
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith((*CALLERS, "MLFLOW_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    run_to_make([python, "-c", _CREATE, str(home)], home / STORE / DATABASE, env, cwd=root)
    return home / STORE


def copy_into(home: Path, python: str = sys.executable) -> Path:
    """``home``/mlflow, a copy of the template (it must not exist yet); its path."""
    source = template(python)
    store = home / STORE
    shutil.copytree(source, store)
    new = (store.resolve() / ARTIFACTS).as_uri()
    _relocate(store / DATABASE, (source / ARTIFACTS).as_uri(), new)
    return store


def _relocate(database: Path, old: str, new: str) -> None:
    """Point every experiment's artifact location under ``old`` at ``new``."""
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        rows = conn.execute("SELECT experiment_id, artifact_location FROM experiments").fetchall()
        for experiment_id, location in rows:
            if location == old or str(location).startswith(old + "/"):
                moved = new + str(location)[len(old) :]
                conn.execute(
                    "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
                    (moved, experiment_id),
                )
