"""JSON shapes of the external-runs API, which `vtm exec` uses to report a run it supervises."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from vtm.api.schemas import AirflowContext, ApiModel, RunRecord
from vtm.runs.external import Claim, ExternalRun
from vtm.runs.ids import RUN_ID
from vtm.states import RunStatus


class RegisterExternalRun(ApiModel):
    """A run `vtm exec` has validated against its own catalog and is about to start."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        pattern=RUN_ID.pattern,
        description="Chosen by `vtm exec` (a run id), so a repeated register finds the run.",
    )
    task_id: str = Field(min_length=1, max_length=200)
    fields: dict[str, Any] = Field(description="The resolved field values.")
    command: list[str] = Field(min_length=1, description="The trainer's argv.")
    host: str = Field(min_length=1, max_length=255, description="Where the trainer runs.")
    airflow: AirflowContext | None = Field(
        default=None, description="The Airflow task try running `vtm exec` (AIRFLOW_CTX_*)."
    )
    mlflow_experiment: str | None = Field(
        default=None, max_length=500, description="The MLflow experiment the trainer logs to."
    )

    def to_external(self) -> ExternalRun:
        return ExternalRun(
            id=self.id,
            task_id=self.task_id,
            fields=self.fields,
            command=self.command,
            host=self.host,
            airflow=self.airflow.model_dump(by_alias=True) if self.airflow else None,
            experiment=self.mlflow_experiment,
        )


class ExternalRunAccepted(ApiModel):
    run: RunRecord
    heartbeat_seconds: float = Field(
        description="Report at least this often, with an empty output post if nothing is new."
    )
    heartbeat_timeout_seconds: float = Field(
        description="A run silent for this long is failed as lost."
    )


class OutputAccepted(ApiModel):
    received: int = Field(
        description="Bytes of the run's output the server holds: the next post starts there."
    )
    status: RunStatus
    stop_requested: bool = Field(description="Someone asked to stop the run: stop the trainer.")


class FinishExternalRun(ApiModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["completed", "failed", "stopped"]
    exit_code: int | None = Field(
        default=None, description="As the supervisor recorded it: negative = killed by that signal."
    )
    error: str | None = Field(default=None, max_length=4000)
    size: int = Field(ge=0, description="The run's output in bytes: all must have been posted.")


class ClaimClusterRun(ApiModel):
    """What a Ray job's `vtm exec` says as it takes up the run it was submitted for."""

    model_config = ConfigDict(extra="forbid")

    ticket: str = Field(
        min_length=1, max_length=200, description="The run's one-time ticket (VTM_RUN_TICKET)."
    )
    task_id: str = Field(min_length=1, max_length=200)
    host: str = Field(min_length=1, max_length=255, description="The node's host name.")
    gpus: list[int] = Field(
        default_factory=list, description="The GPUs the cluster gave it (CUDA_VISIBLE_DEVICES)."
    )
    command: list[str] = Field(
        min_length=1, description="The trainer's argv, as planned from the node's catalog."
    )

    def to_claim(self) -> Claim:
        return Claim(self.ticket, self.task_id, self.host, list(self.gpus), list(self.command))


class ClusterRunClaimed(ExternalRunAccepted):
    token: str = Field(
        description="The run's own token: send it (Authorization: Bearer) with the run's "
        "output and finish; it is good for nothing else, and shown only this once."
    )
