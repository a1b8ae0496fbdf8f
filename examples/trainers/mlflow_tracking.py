"""MLflow logging for the sample trainers, used only when ``MLFLOW_TRACKING_URI`` is set.

VTM sets ``MLFLOW_TRACKING_URI``, ``MLFLOW_EXPERIMENT_NAME`` (the catalog task's
``mlflow.experiment``, default the task id), ``VTM_RUN_ID`` and, for its embedded store,
``VTM_MLFLOW_ARTIFACT_ROOT``. Without ``MLFLOW_TRACKING_URI`` a trainer runs standalone and
:func:`tracked_run` yields None. ``mlflow`` is imported only when it is used.

    with tracked_run("digits-cnn", params=vars(args)) as tracking:
        ...
        if tracking:
            tracking.log_epoch(epoch, train_loss=..., val_accuracy=...)

The MLflow run is tagged ``vtm.run_id`` (so VTM links it even without the meta line) and
``vtm.task``, and its id is reported at once with ``VTM_RUN_META::``. It ends FAILED when the
block raises, FINISHED otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

VTM_RUN_TAG = "vtm.run_id"
VTM_TASK_TAG = "vtm.task"

try:
    from vtm.reporting import meta
except ImportError:  # outside VTM's environment: print the protocol line by hand

    def meta(**values: Any) -> None:
        print("VTM_RUN_META::" + json.dumps(values), flush=True)


class Tracking:
    """The active MLflow run of a trainer."""

    def __init__(self, run_id: str) -> None:
        import mlflow

        self._mlflow = mlflow
        self.run_id = run_id
        self._history: list[dict[str, Any]] = []

    def log_epoch(self, epoch: int, **metrics: float) -> None:
        """One epoch's metrics, at step ``epoch`` (MLflow keeps each metric's history)."""
        self._mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=epoch)
        self._history.append({"epoch": epoch, **metrics})

    def log_history_csv(self, name: str = "history.csv") -> None:
        """The per-epoch metrics as one CSV artifact (handy to download from the UI)."""
        if not self._history:
            return
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(self._history[0]))
        writer.writeheader()
        writer.writerows(self._history)
        self._mlflow.log_text(out.getvalue(), name)

    def log_json(self, data: Mapping[str, Any], name: str) -> None:
        self._mlflow.log_dict(dict(data), name)

    def log_model(self, model: Any, code_paths: list[Path]) -> str:
        """Log a torch model as ``model``; returns its URI (``models:/m-...``).

        Pickled (the default ``pt2`` format wants an input example), with the requirement
        given (inferring it costs 7-10 s) and the module defining the network attached, so
        that ``mlflow.pytorch.load_model`` can rebuild it in another process.
        """
        import torch

        info = self._mlflow.pytorch.log_model(
            model.to("cpu"),
            name="model",
            serialization_format="pickle",
            pip_requirements=[f"torch=={torch.__version__}"],
            code_paths=[str(p) for p in code_paths],
        )
        return str(info.model_uri)


@contextmanager
def _first_access_lock() -> Iterator[None]:
    """Hold VTM's lock on a SQLite store while touching it first: two processes creating its
    tables at once corrupt it (VTM's server creates them at start, under the same lock)."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        yield
        return
    import fcntl

    db_file = Path(uri[len(prefix) :].split("?", 1)[0])
    db_file.parent.mkdir(parents=True, exist_ok=True)
    with open(db_file.with_name(db_file.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def ensure_experiment(name: str) -> str:
    """The experiment's id; created under VTM's artifact root when VTM gave one (MLflow's
    default is ./mlruns in the working directory)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    with _first_access_lock():
        client = MlflowClient()
        found = client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        root = os.environ.get("VTM_MLFLOW_ARTIFACT_ROOT")
        location = (Path(root) / name).as_uri() if root else None
        try:
            return str(client.create_experiment(name, artifact_location=location))
        except MlflowException:
            # Another trainer created it between the lookup and the create.
            again = client.get_experiment_by_name(name)
            if again is None:
                raise
            return str(again.experiment_id)


@contextmanager
def tracked_run(
    task: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None
) -> Iterator[Tracking | None]:
    """An MLflow run for the block when ``MLFLOW_TRACKING_URI`` is set, else None."""
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        yield None
        return
    try:
        import mlflow
    except ImportError:
        print("warning: MLFLOW_TRACKING_URI is set but mlflow is not installed", file=sys.stderr)
        yield None
        return
    experiment_id = ensure_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or task)
    all_tags = {VTM_TASK_TAG: task, **(tags or {})}
    vtm_run_id = os.environ.get("VTM_RUN_ID")
    if vtm_run_id:
        all_tags[VTM_RUN_TAG] = vtm_run_id
    with mlflow.start_run(experiment_id=experiment_id, tags=all_tags) as run:
        meta(mlflow_run_id=run.info.run_id)  # VTM links the run now, while it trains
        mlflow.log_params(dict(params))
        yield Tracking(run.info.run_id)
