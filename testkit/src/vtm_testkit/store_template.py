"""VTM's store on SQLite, migrated once per process by VTM's own ``migrate``, copied to where a
server's database is about to be made.

A new database runs every migration at the server's start, and Alembic's imports come with
it (most of a second of CPU, every server of the suite); a copy takes milliseconds, and the
server then starts as it does on any store it made before. The kit never imports VTM: the
template is made by VTM's Python in a subprocess. Migrations from an empty store keep their
own tests (tests/test_store.py).
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from vtm_testkit.commands import run_to_make

SQLITE = "sqlite:///"

_CREATE = """
import sys
from vtm.store.db import create_db_engine, migrate
engine = create_db_engine("sqlite:///" + sys.argv[1])
migrate(engine)
engine.dispose()
"""

_templates: dict[str, Path] = {}
_lock = threading.Lock()


def template(python: str = sys.executable) -> Path:
    """The migrated database made once in this process by ``python`` (VTM's), removed at exit."""
    with _lock:
        if python not in _templates:
            root = Path(tempfile.mkdtemp(prefix="vtm-testkit-store-"))
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            database = root / "vtm.db"
            run_to_make([python, "-c", _CREATE, str(database)], database, {}, cwd=root)
            _templates[python] = database
        return _templates[python]


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL (None: another database, or SQLite in memory)."""
    if not database_url.startswith(SQLITE) or database_url in (SQLITE, SQLITE + ":memory:"):
        return None
    return Path(database_url[len(SQLITE) :])


def seed(database_url: str, python: str = sys.executable, cwd: Path | None = None) -> bool:
    """Copy the template to ``database_url``'s file if that is SQLite and does not exist yet
    (a relative path is the server's: from ``cwd``); whether it did."""
    path = sqlite_path(database_url)
    if path is None:
        return False
    if cwd is not None:
        path = cwd / path
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template(python), path)
    return True
