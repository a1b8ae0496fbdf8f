"""The MLflow Ops API's JSON shapes (camelCase on the wire), built from MLflow's entities.

MLflow counts time in milliseconds since the epoch; these carry UTC datetimes. Metric values
that JSON cannot hold (NaN, infinities) are null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from vtm.api.schemas import ApiModel
from vtm.integrations.mlflow import VTM_RUN_TAG
from vtm.integrations.mlflow.ops import RegisteredModelInfo, Row, StoreStatus, finite

if TYPE_CHECKING:
    from mlflow.entities import Experiment, FileInfo, LoggedModel, Metric, Run
    from mlflow.entities.model_registry import ModelVersion


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


class MlflowStatusOut(ApiModel):
    tracking_uri: str = Field(description="The tracking URI, any password replaced by ***.")
    embedded: bool = Field(description="VTM's own store under $VTM_HOME/mlflow.")
    ui_url: str | None = Field(description="The MLflow UI, when one is known.")
    reachable: bool
    error: str | None = Field(description="Why the store did not answer.")
    creating: bool = Field(
        description="The embedded store is being created (seconds): not reachable yet, and "
        "not failing either; ask again shortly."
    )

    @classmethod
    def of(cls, status: StoreStatus) -> MlflowStatusOut:
        return cls(
            tracking_uri=status.tracking_uri,
            embedded=status.embedded,
            ui_url=status.ui_url,
            reachable=status.reachable,
            error=status.error,
            creating=status.creating,
        )


class ExperimentOut(ApiModel):
    id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: datetime | None
    last_update_time: datetime | None = Field(
        description="When MLflow last changed the experiment itself (not its runs)."
    )
    latest_run_time: datetime | None = Field(
        default=None,
        description="The experiment's newest run's end, or its start while it has not "
        "ended; null when it has no runs.",
    )
    tags: dict[str, str]

    @classmethod
    def of(cls, e: Experiment, latest_run_ms: int | None = None) -> ExperimentOut:
        return cls(
            id=e.experiment_id,
            name=e.name,
            artifact_location=e.artifact_location,
            lifecycle_stage=e.lifecycle_stage,
            creation_time=_time(e.creation_time),
            last_update_time=_time(e.last_update_time),
            latest_run_time=_time(latest_run_ms),
            tags=dict(e.tags),
        )


class ExperimentList(ApiModel):
    experiments: list[ExperimentOut]


class MlflowRunOut(ApiModel):
    id: str
    name: str | None
    experiment_id: str
    status: str = Field(description="RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.")
    start_time: datetime | None
    end_time: datetime | None
    lifecycle_stage: str
    artifact_uri: str | None
    user_id: str | None
    params: dict[str, str]
    metrics: dict[str, float | None] = Field(description="The latest value of each metric.")
    tags: dict[str, str]
    vtm_run_id: str | None = Field(description=f"The VTM run, from the tag {VTM_RUN_TAG}.")

    @classmethod
    def of(cls, r: Run) -> MlflowRunOut:
        info, data = r.info, r.data
        return cls(
            id=info.run_id,
            name=info.run_name,
            experiment_id=info.experiment_id,
            status=info.status,
            start_time=_time(info.start_time),
            end_time=_time(info.end_time),
            lifecycle_stage=info.lifecycle_stage,
            artifact_uri=info.artifact_uri,
            user_id=info.user_id,
            params=dict(data.params),
            metrics={k: finite(v) for k, v in data.metrics.items()},
            tags=dict(data.tags),
            vtm_run_id=data.tags.get(VTM_RUN_TAG),
        )


class MlflowRunList(ApiModel):
    experiment: ExperimentOut
    runs: list[MlflowRunOut] = Field(description="Newest first.")
    next_page_token: str | None = Field(description="pageToken of the next, older page.")


class LoggedModelOut(ApiModel):
    id: str
    name: str
    experiment_id: str
    source_run_id: str | None
    model_uri: str
    artifact_location: str
    status: str
    model_type: str | None
    creation_time: datetime | None
    last_updated_time: datetime | None
    tags: dict[str, str]

    @classmethod
    def of(cls, m: LoggedModel) -> LoggedModelOut:
        status = m.status
        return cls(
            id=m.model_id,
            name=m.name,
            experiment_id=m.experiment_id,
            source_run_id=m.source_run_id,
            model_uri=m.model_uri,
            artifact_location=m.artifact_location,
            status=str(getattr(status, "value", status)),
            model_type=m.model_type,
            creation_time=_time(m.creation_timestamp),
            last_updated_time=_time(m.last_updated_timestamp),
            tags=dict(m.tags),
        )


class MlflowRunDetail(ApiModel):
    run: MlflowRunOut
    experiment_name: str
    logged_models: list[LoggedModelOut] = Field(
        description="Models the run logged (MLflow 3 keeps them beside the run's artifacts)."
    )


class MetricPoint(ApiModel):
    step: int
    timestamp: datetime
    value: float | None


class MetricHistory(ApiModel):
    run_id: str
    key: str
    points: list[MetricPoint] = Field(description="Ordered by step.")

    @classmethod
    def of(cls, run_id: str, key: str, history: list[Metric]) -> MetricHistory:
        return cls(
            run_id=run_id,
            key=key,
            points=[
                MetricPoint(
                    step=m.step, timestamp=_time(m.timestamp) or _EPOCH, value=finite(m.value)
                )
                for m in history
            ],
        )


_EPOCH = datetime.fromtimestamp(0, UTC)


class ArtifactEntry(ApiModel):
    path: str = Field(description="Relative to the artifacts' root; the `path` to ask for.")
    name: str
    is_dir: bool
    size: int | None = Field(description="Bytes; none for folders.")

    @classmethod
    def of(cls, f: FileInfo) -> ArtifactEntry:
        return cls(path=f.path, name=f.path.rsplit("/", 1)[-1], is_dir=f.is_dir, size=f.file_size)


class ArtifactListing(ApiModel):
    path: str = Field(description="The folder listed ('' is the root).")
    entries: list[ArtifactEntry] = Field(description="Folders first, then files, by name.")


class CompareRow(ApiModel):
    key: str
    values: dict[str, str | float | None] = Field(description="By run id; null: not logged.")
    differs: bool


class RunComparison(ApiModel):
    runs: list[MlflowRunOut]
    params: list[CompareRow]
    metrics: list[CompareRow] = Field(description="Latest values.")

    @classmethod
    def of(cls, runs: list[Run], params: list[Row], metrics: list[Row]) -> RunComparison:
        ids = [r.info.run_id for r in runs]

        def rows(found: list[Row]) -> list[CompareRow]:
            return [
                CompareRow(
                    key=r.key, values=dict(zip(ids, r.values, strict=True)), differs=r.differs
                )
                for r in found
            ]

        return cls(
            runs=[MlflowRunOut.of(r) for r in runs], params=rows(params), metrics=rows(metrics)
        )


class ModelVersionOut(ApiModel):
    version: str
    run_id: str | None
    source: str | None
    status: str | None
    creation_time: datetime | None
    description: str | None
    aliases: list[str]

    @classmethod
    def of(cls, v: ModelVersion, aliases: list[str]) -> ModelVersionOut:
        return cls(
            version=str(v.version),
            run_id=v.run_id or None,
            source=v.source or None,
            status=v.status,
            creation_time=_time(v.creation_timestamp),
            description=v.description or None,
            aliases=aliases,
        )


class RegisteredModelOut(ApiModel):
    name: str
    description: str | None
    creation_time: datetime | None
    last_updated_time: datetime | None
    tags: dict[str, str]
    aliases: dict[str, str] = Field(description="Alias → version.")
    versions: list[ModelVersionOut] = Field(description="Newest first.")

    @classmethod
    def of(cls, info: RegisteredModelInfo) -> RegisteredModelOut:
        m = info.model
        by_version: dict[str, list[str]] = {}
        for alias, version in sorted(info.aliases.items()):
            by_version.setdefault(version, []).append(alias)
        return cls(
            name=m.name,
            description=m.description or None,
            creation_time=_time(m.creation_timestamp),
            last_updated_time=_time(m.last_updated_timestamp),
            tags=dict(m.tags or {}),
            aliases=info.aliases,
            versions=[
                ModelVersionOut.of(v, by_version.get(str(v.version), [])) for v in info.versions
            ],
        )


class RegisteredModelList(ApiModel):
    models: list[RegisteredModelOut]


class LinkedMlflowRun(ApiModel):
    vtm_run_id: str
    mlflow_run_id: str | None = Field(description="Null when the VTM run has no MLflow run.")
    linked_by: Literal["stored", "tag"] | None = Field(
        description="stored: the id VTM's store holds (the trainer's VTM_RUN_META); "
        "tag: the earliest MLflow run tagged vtm.run_id with the VTM run's id; null: none found."
    )
    run: MlflowRunOut | None
