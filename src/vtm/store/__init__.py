"""The metadata database: runs and their metric points."""

from vtm.store.db import create_db_engine, migrate, normalize_url
from vtm.store.records import MetricPoint, NewRun, OutputBatch, RunData
from vtm.store.repository import RunRepository

__all__ = [
    "MetricPoint",
    "NewRun",
    "OutputBatch",
    "RunData",
    "RunRepository",
    "create_db_engine",
    "migrate",
    "normalize_url",
]
