"""What a run's trainer is started with: the same for the server's runs and `vtm exec`'s.

``launch_record`` is fixed when a run is accepted (stored with it, so a queued run starts as it
was asked even if the catalog changes); ``trainer_spec`` turns a run into the supervisor's
``spec.json`` at the moment it starts.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from vtm.catalog import LaunchPlan, LoadedCatalog
from vtm.integrations.mlflow import trainer_env
from vtm.integrations.mlflow.linker import EXPERIMENT_KEY
from vtm.settings import Settings
from vtm.supervisor import LaunchSpec, RunDir

# Settings that must not leak into trainers: credentials of VTM itself.
PRIVATE_ENV = ("VTM_TOKEN", "VTM_DATABASE_URL", "VTM_FTP_URL")
# In a run's launch record: `vtm exec` supervises it on another machine and reports to this
# server, which must never try to launch, watch or recover it itself.
EXTERNAL_KEY = "external"


class Launchable(Protocol):
    """A run about to start: a stored one (RunData) or one `vtm exec` has just planned."""

    @property
    def id(self) -> str: ...
    @property
    def task_id(self) -> str: ...
    @property
    def command(self) -> list[str]: ...
    @property
    def launch(self) -> dict[str, Any]: ...


def launch_record(loaded: LoadedCatalog, task_id: str, plan: LaunchPlan) -> dict[str, Any]:
    return {
        "cwd": str(plan.cwd),
        "env": dict(plan.env),
        "timeoutSeconds": plan.timeout_seconds,
        "gpus": plan.gpus,
        EXPERIMENT_KEY: loaded.catalog.experiment_name(task_id),
    }


def is_external(launch: dict[str, Any]) -> bool:
    return bool(launch.get(EXTERNAL_KEY))


def trainer_spec(
    settings: Settings, run: Launchable, run_dir: RunDir, gpus: list[int]
) -> LaunchSpec:
    """The supervisor's spec for ``run`` in ``run_dir``: the catalog's env first, then what
    VTM sets (it wins: MLflow linking depends on it), with VTM's credentials taken out."""
    experiment = str(run.launch.get(EXPERIMENT_KEY) or run.task_id)
    env = {
        **{str(k): str(v) for k, v in run.launch.get("env", {}).items()},
        **trainer_env(settings, experiment),
        "VTM_RUN_ID": run.id,
        "VTM_RUN_DIR": str(run_dir.path),
        "VTM_TENSORBOARD_DIR": str(settings.tensorboard_dir / run.id),
    }
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in gpus)
    timeout = run.launch.get("timeoutSeconds")
    return LaunchSpec(
        run_id=run.id,
        argv=list(run.command),
        cwd=str(run.launch.get("cwd") or os.getcwd()),
        env=env,
        unset_env=list(PRIVATE_ENV),
        timeout_seconds=float(timeout) if timeout is not None else None,
        grace_seconds=settings.stop_grace_seconds,
    )
