"""Everything about ``training_catalog.yaml``: schema, loading, fields, commands, hot reload.

load_catalog(path) -> LoadedCatalog          read and validate (CatalogError: file, line, key)
effective_fields(catalog, task_id)           a task's merged field specs
resolve_fields(catalog, task_id, request)    a run's typed values (InvalidRequest per field)
plan_launch(loaded, task_id, resolved)       argv, cwd, env, timeout, GPUs, experiment
CatalogHolder(path)                          last good catalog, error, watch() for hot reload
check_catalog(loaded)                        trainers' --help against the catalog's flags
"""

from vtm.catalog.check import CheckProblem, check_catalog
from vtm.catalog.command import LaunchPlan, plan_launch
from vtm.catalog.fields import effective_fields, resolve_fields
from vtm.catalog.holder import CatalogHolder
from vtm.catalog.loader import LoadedCatalog, load_catalog
from vtm.catalog.models import (
    BaseTaskType,
    Catalog,
    FieldSpec,
    FieldType,
    PrimaryMetric,
    Resources,
    Runner,
    Scalar,
    Task,
    TaskMlflow,
    parse_duration,
)

__all__ = [
    "BaseTaskType",
    "Catalog",
    "CatalogHolder",
    "CheckProblem",
    "FieldSpec",
    "FieldType",
    "LaunchPlan",
    "LoadedCatalog",
    "PrimaryMetric",
    "Resources",
    "Runner",
    "Scalar",
    "Task",
    "TaskMlflow",
    "check_catalog",
    "effective_fields",
    "load_catalog",
    "parse_duration",
    "plan_launch",
    "resolve_fields",
]
