"""The metadata database: runs and their metric points."""

from vtm.store.db import create_db_engine, migrate, normalize_url
from vtm.store.launch import LaunchRecord, experiment_of
from vtm.store.records import MetricPoint, NewRun, OutputBatch, RunData, ScalarPoint
from vtm.store.repository import RunRepository

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
