"""Read-only queries behind the MLflow Ops page: experiments, runs, metric history, artifacts,
logged models, the model registry, and the link from a VTM run to its MLflow run.

Every call goes through VTM's tracking client on the server (the browser never talks to
MLflow). A missing experiment, run, model or file becomes :class:`NotFound`; MLflow refusing
or being unreachable becomes :class:`UpstreamError` (``mlflow_errors``). These functions block:
the API calls them from plain ``def`` routes, which FastAPI runs in its thread pool.
"""

from vtm.integrations.mlflow.ops._calls import MAX_COMPARE, MAX_RUNS, finite
from vtm.integrations.mlflow.ops.artifacts import (
    ArtifactFile,
    artifact_path,
    model_artifact_file,
    model_artifacts,
    run_artifact_file,
    run_artifacts,
)
from vtm.integrations.mlflow.ops.registry import (
    RegisteredModelInfo,
    registered_model,
    registered_models,
)
from vtm.integrations.mlflow.ops.status import CREATING, StoreStatus, status
from vtm.integrations.mlflow.ops.tracking import (
    Row,
    RunsPage,
    compare,
    experiment,
    experiments,
    latest_run_times,
    linked_run,
    logged_model,
    logged_models,
    metric_history,
    run,
    run_activity_ms,
    runs,
    side_by_side,
)

__all__ = [
    "CREATING",
    "MAX_COMPARE",
    "MAX_RUNS",
    "ArtifactFile",
    "RegisteredModelInfo",
    "Row",
    "RunsPage",
    "StoreStatus",
    "artifact_path",
    "compare",
    "experiment",
    "experiments",
    "finite",
    "latest_run_times",
    "linked_run",
    "logged_model",
    "logged_models",
    "metric_history",
    "model_artifact_file",
    "model_artifacts",
    "registered_model",
    "registered_models",
    "run",
    "run_activity_ms",
    "run_artifact_file",
    "run_artifacts",
    "runs",
    "side_by_side",
    "status",
]
