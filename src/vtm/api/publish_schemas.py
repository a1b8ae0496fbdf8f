"""The JSON shapes of POST /api/publish (camelCase on the wire, like the rest of the API)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from vtm.api.schemas import ApiModel
from vtm.publish import DEFAULT_ALIAS, GateRequest, PublishRequest, PublishResult, Verdict


class GateBody(ApiModel):
    """How a pipeline's publish step judges the model before publishing it."""

    model_config = ConfigDict(extra="forbid")

    evaluation_run_id: str | None = Field(
        default=None,
        description="The completed VTM run that measured the model: its last reported value of "
        "`metric` judges it. Default: the model's own MLflow run's value.",
    )
    metric: str | None = Field(
        default=None,
        description="Default: the evaluation run's task's primary metric, else the publish's.",
    )
    goal: Literal["max", "min"] | None = None
    min_metric: float | None = Field(
        default=None, description="Refuse a model worse than this by `metric`."
    )
    against_champion: bool = Field(
        default=True,
        description="Refuse a model that is not strictly better by `metric` than the one the "
        "alias points at (its value is recorded on its version when it was published).",
    )

    def to_request(self) -> GateRequest:
        return GateRequest(
            evaluation_run_id=self.evaluation_run_id,
            metric=self.metric,
            goal=self.goal,
            min_metric=self.min_metric,
            against_champion=self.against_champion,
        )


class PublishBody(ApiModel):
    model_config = ConfigDict(extra="forbid")

    task: str = Field(description="Task id from the catalog.")
    metric: str | None = Field(
        default=None, description="Metric to rank runs by; default: the task's primary metric."
    )
    goal: Literal["max", "min"] | None = Field(
        default=None,
        description="Whether higher or lower is better; default: the primary metric's goal.",
    )
    since: str | None = Field(
        default=None,
        description='Only runs finished in this window, e.g. "7d", "12h"; default: all runs.',
    )
    alias: str = Field(default=DEFAULT_ALIAS, description="Registry alias to point at the version.")
    run_id: str | None = Field(
        default=None,
        description="Publish this completed run of the task (a pipeline's trained run) instead "
        "of choosing the best one.",
    )
    gate: GateBody | None = Field(
        default=None,
        description="Judge the model first (a pipeline's publish step). The task's floor "
        "(catalog publish.minMetric) applies to every publish.",
    )

    def to_request(self) -> PublishRequest:
        return PublishRequest(
            task=self.task,
            metric=self.metric,
            goal=self.goal,
            since=self.since,
            alias=self.alias,
            run_id=self.run_id,
            gate=self.gate.to_request() if self.gate else None,
        )


class MetricOut(ApiModel):
    name: str
    goal: Literal["max", "min"]
    value: float


class PublishedFile(ApiModel):
    name: str = Field(description="Path inside the version folder.")
    size: int
    sha256: str


class FtpOut(ApiModel):
    url: str = Field(description="The FTP registry, password redacted.")
    folder: str = Field(description="The version's folder on the FTP server.")
    files: list[PublishedFile] = Field(description="The model's files, then model_card.json.")


class VerdictOut(ApiModel):
    """What the published model was judged by."""

    metric: str
    goal: Literal["max", "min"]
    value: float
    min_metric: float | None
    evaluation_run_id: str | None
    champion_version: int | None = Field(description="The version the alias was on before.")
    champion_value: float | None = Field(description="Its recorded value; null if none.")

    @classmethod
    def of(cls, verdict: Verdict) -> VerdictOut:
        return cls(
            metric=verdict.metric,
            goal=verdict.goal,
            value=verdict.value,
            min_metric=verdict.min_metric,
            evaluation_run_id=verdict.evaluation_run_id,
            champion_version=verdict.champion_version,
            champion_value=verdict.champion_value,
        )


class PublishResponse(ApiModel):
    task: str
    vtm_run_id: str
    mlflow_run_id: str
    model_uri: str
    metric: MetricOut
    registered_model: str
    version: int
    alias: str
    already_published: bool = Field(
        description="True when this run's version was already registered, uploaded and aliased: "
        "nothing was changed."
    )
    ftp: FtpOut | None = Field(description="Null when VTM_FTP_URL is not set.")
    notes: list[str]
    verdict: VerdictOut | None = Field(
        default=None, description="The gate's verdict, when the request had a gate."
    )

    @classmethod
    def of(cls, result: PublishResult) -> PublishResponse:
        ftp = result.ftp
        return cls(
            task=result.task,
            vtm_run_id=result.vtm_run_id,
            mlflow_run_id=result.mlflow_run_id,
            model_uri=result.model_uri,
            metric=MetricOut(
                name=result.metric_name, goal=result.metric_goal, value=result.metric_value
            ),
            registered_model=result.registered_model,
            version=result.version,
            alias=result.alias,
            already_published=result.already_published,
            ftp=None
            if ftp is None
            else FtpOut(
                url=ftp.url,
                folder=ftp.folder,
                files=[PublishedFile(name=f.name, size=f.size, sha256=f.sha256) for f in ftp.files],
            ),
            notes=result.notes,
            verdict=VerdictOut.of(result.verdict) if result.verdict else None,
        )
