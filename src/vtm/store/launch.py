"""A run's launch record: how its trainer is started, fixed when the run is accepted.

plan → record → spec: the catalog's ``LaunchPlan`` (what the catalog says at the request)
becomes the ``LaunchRecord`` stored with the run (its ``launch`` JSON column, so a queued run
starts as it was asked even if the catalog changes meanwhile), which becomes the supervisor's
``LaunchSpec`` (``spec.json``) the moment the run starts; ``vtm.runs.launch`` makes both
turns.

Stored as camelCase JSON with a ``version``. Rows written before the version existed hold the
same keys without it: ``{"cwd", "env", "timeoutSeconds", "gpus", "mlflowExperiment"}`` for a
run the server launches, ``{"external": true, "mlflowExperiment"}`` for one `vtm exec`
supervises; they read as version 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from vtm.executors import Executor

LAUNCH_RECORD_VERSION = 1


class LaunchRecord(BaseModel):
    """How a run's trainer is started. Immutable; ``to_json``/``from_json`` are its stored
    form."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )

    version: Literal[1] = 1  # LAUNCH_RECORD_VERSION
    # The trainer's working directory (None for an external run: it runs elsewhere).
    cwd: str | None = None
    # ``runner.workdir: run``: the trainer runs in its run's own folder, runs/<id>/work/.
    in_run_dir: bool = False
    # The catalog's ``runner.env``; what VTM adds at the start is not recorded.
    env: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float | None = None
    gpus: int = Field(default=0, ge=0)
    # The MLflow experiment the run was started for; read it through ``experiment_of``.
    mlflow_experiment: str | None = None
    # `vtm exec` supervises the run on another machine and reports to this server, which must
    # never launch, watch or recover it itself.
    external: bool = False
    # Where the trainer runs: on this server's machine, or as a job of the Ray cluster, where
    # `vtm exec` supervises it and reports back as for an external run.
    executor: Executor = "local"

    @property
    def supervised_elsewhere(self) -> bool:
        """`vtm exec` supervises the run and reports it over the external-runs API: the server
        never watches its trainer or recovers it from a run folder."""
        return self.external or self.executor != "local"

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> LaunchRecord:
        """The record stored as ``raw``; one without a version is an earlier VTM's (the same
        keys). ValueError says what is wrong, a version this VTM does not know included."""
        data = dict(raw or {})
        version = data.setdefault("version", LAUNCH_RECORD_VERSION)
        if version != LAUNCH_RECORD_VERSION:
            raise ValueError(
                f"launch record version {version!r}: this VTM reads version "
                f"{LAUNCH_RECORD_VERSION} (and the unversioned records before it)"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValueError(f"launch record: {exc}") from None


class Launched(Protocol):
    """A run with its launch record: a stored one (RunData) or a new one (NewRun)."""

    @property
    def task_id(self) -> str: ...
    @property
    def launch(self) -> LaunchRecord: ...


def experiment_of(run: Launched) -> str:
    """The MLflow experiment ``run`` logs to: the one recorded when it was created (a later
    catalog edit does not move it), else (records from before it was kept) its task's id."""
    return run.launch.mlflow_experiment or run.task_id
