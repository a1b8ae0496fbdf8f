"""The JSON shapes of POST /api/publish (camelCase on the wire, like the rest of the API)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from vtm.api.schemas import ApiModel
from vtm.publish import DEFAULT_ALIAS, PublishRequest, PublishResult


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

    def to_request(self) -> PublishRequest:
        return PublishRequest(
            task=self.task, metric=self.metric, goal=self.goal, since=self.since, alias=self.alias
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
        )
