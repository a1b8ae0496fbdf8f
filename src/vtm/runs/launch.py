"""What a run's trainer is started with: the same for the server's runs and `vtm exec`'s.

plan → record → spec. ``launch_record`` turns the catalog's ``LaunchPlan`` into the
``LaunchRecord`` stored with the run when it is accepted (so a queued run starts as it was
asked even if the catalog changes); ``launch_spec`` turns the run's record into the
supervisor's ``LaunchSpec`` (``spec.json``) at the moment it starts.
"""

from __future__ import annotations

import os
from typing import Protocol

from vtm.catalog import LaunchPlan
from vtm.integrations.mlflow import trainer_env
from vtm.settings import Settings
from vtm.store import LaunchRecord, experiment_of
from vtm.supervisor import LaunchSpec, RunDir

# Settings that must not leak into trainers: credentials of VTM itself.
PRIVATE_ENV = ("VTM_TOKEN", "VTM_DATABASE_URL", "VTM_FTP_URL", "VTM_RUN_TICKET")


class Launchable(Protocol):
    """A run about to start: a stored one (RunData) or one `vtm exec` has just planned."""

    @property
    def id(self) -> str: ...
    @property
    def task_id(self) -> str: ...
    @property
    def command(self) -> list[str]: ...
    @property
    def launch(self) -> LaunchRecord: ...


def launch_record(plan: LaunchPlan) -> LaunchRecord:
    """The record stored with a run accepted with ``plan`` (its argv is the run's command)."""
    return LaunchRecord(
        cwd=str(plan.cwd),
        in_run_dir=plan.in_run_dir,
        env=dict(plan.env),
        timeout_seconds=plan.timeout_seconds,
        gpus=plan.gpus,
        mlflow_experiment=plan.mlflow_experiment,
        executor=plan.executor,
    )


def launch_spec(
    settings: Settings, run: Launchable, run_dir: RunDir, gpus: list[int] | None
) -> LaunchSpec:
    """The supervisor's spec for ``run`` in ``run_dir``: the recorded env first, then what
    VTM sets (it wins: MLflow linking depends on it), with VTM's credentials taken out.

    ``gpus``: the GPUs the server gave the run, its only ones (``CUDA_VISIBLE_DEVICES`` is
    always set, to the empty string for none); None where VTM does not hand out the
    machine's GPUs (`vtm exec`: the machine's scheduler did)."""
    record = run.launch
    env = {
        **record.env,
        **trainer_env(settings, experiment_of(run)),
        "VTM_RUN_ID": run.id,
        "VTM_RUN_DIR": str(run_dir.path),
        "VTM_TENSORBOARD_DIR": str(settings.tensorboard_dir / run.id),
    }
    if gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in gpus)
    cwd = record.cwd or os.getcwd()
    if record.in_run_dir:
        run_dir.work_dir.mkdir(parents=True, exist_ok=True)
        cwd = str(run_dir.work_dir)
    return LaunchSpec(
        run_id=run.id,
        argv=list(run.command),
        cwd=cwd,
        env=env,
        unset_env=list(PRIVATE_ENV),
        timeout_seconds=record.timeout_seconds,
        grace_seconds=settings.stop_grace_seconds,
    )
