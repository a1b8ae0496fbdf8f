"""The metadata database: runs and their metric points.

The records (``NewRun``, ``RunData``, ``LaunchRecord``…) are plain data and load at once; the
database parts (``RunRepository``, the engine, the migrations: SQLAlchemy and Alembic, half a
second of imports) load on first use, so that `vtm exec` reporting to a server, which never
opens a store, does not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vtm.store.launch import LaunchRecord, experiment_of
from vtm.store.records import MetricPoint, NewRun, OutputBatch, RunData, ScalarPoint

if TYPE_CHECKING:
    from vtm.store.db import create_db_engine, migrate, normalize_url
    from vtm.store.repository import RunRepository

_DATABASE = {
    "create_db_engine": "vtm.store.db",
    "migrate": "vtm.store.db",
    "normalize_url": "vtm.store.db",
    "RunRepository": "vtm.store.repository",
}

__all__ = [
    "LaunchRecord",
    "MetricPoint",
    "NewRun",
    "OutputBatch",
    "RunData",
    "RunRepository",
    "ScalarPoint",
    "create_db_engine",
    "experiment_of",
    "migrate",
    "normalize_url",
]


def __getattr__(name: str) -> Any:
    if name in _DATABASE:
        import importlib

        return getattr(importlib.import_module(_DATABASE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
