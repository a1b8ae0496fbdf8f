"""Publish a task's best model: choose the run, register its model, upload it to the FTP
registry, point the alias at it — all of it, or nothing.

Order matters for "nothing": everything that can fail without side effects goes first (the
request, the choice, the FTP login, the download of the model's files); then the registry
version is created, the files uploaded (each verified, the card last), and only then the alias
moved. A failure after the version was created removes the uploaded files and the version (and
the registered model, when this publish created it), so the registry looks as it did before.

Publishing the run whose version already exists, with its folder complete on the FTP server
and the alias already on it, changes nothing and says ``already_published``.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtm.catalog import Catalog, parse_duration
from vtm.errors import FieldError, InvalidRequest, NotFound, UpstreamError
from vtm.integrations.mlflow import mlflow_errors, tracking_client
from vtm.publish import registry
from vtm.publish.card import (
    CARD_NAME,
    CardFacts,
    card_files,
    model_files,
    read_card,
    render_card,
)
from vtm.publish.ftp import FileEntry, FolderUpload, FtpSession, FtpTarget, digest_bytes, failing
from vtm.publish.selection import Choice, Goal, choose
from vtm.settings import Settings
from vtm.store import RunRepository

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

DEFAULT_ALIAS = "champion"
NO_FTP_NOTE = "VTM_FTP_URL is not set: published to the MLflow registry only"

# One publish at a time in this process: two racing publishes of the same run would both
# find no version and both create one.
_publishing = threading.Lock()


@dataclass(frozen=True)
class PublishRequest:
    task: str
    metric: str | None = None
    goal: Goal | None = None
    since: str | None = None
    alias: str = DEFAULT_ALIAS


@dataclass(frozen=True)
class FtpResult:
    url: str  # redacted: ftp://user:***@host:port/path
    folder: str
    files: list[FileEntry]


@dataclass(frozen=True)
class PublishResult:
    task: str
    vtm_run_id: str
    mlflow_run_id: str
    model_uri: str
    metric_name: str
    metric_goal: Goal
    metric_value: float
    registered_model: str
    version: int
    alias: str
    already_published: bool
    ftp: FtpResult | None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    task: str
    metric: str
    goal: Goal
    since: float | None
    since_text: str | None
    alias: str
    registered_model: str
    experiment: str


def publish(
    settings: Settings, catalog: Catalog, repo: RunRepository, request: PublishRequest
) -> PublishResult:
    """Publish the best run of ``request.task``; see the module's doc for the guarantees."""
    plan = _plan(catalog, request)
    target = FtpTarget.parse(settings.ftp_url.get_secret_value()) if settings.ftp_url else None
    with _publishing:
        client = tracking_client(settings)
        choice = choose(
            client,
            repo,
            task=plan.task,
            experiment=plan.experiment,
            metric=plan.metric,
            goal=plan.goal,
            since=plan.since,
            since_text=plan.since_text,
        )
        if target is None:
            return _registry_only(client, plan, choice)
        with FtpSession.open(target) as ftp:  # reachable and logged in before any write
            return _with_ftp(settings, client, ftp, plan, choice)


def _plan(catalog: Catalog, request: PublishRequest) -> _Plan:
    task = request.task
    if task not in catalog.tasks:
        raise NotFound(f"unknown task {task!r}")
    primary = catalog.primary_metric(task)
    metric = request.metric or (primary.name if primary else None)
    if not metric:
        raise InvalidRequest(
            [FieldError("metric", f"task {task!r} has no primary metric: name one (and a goal)")]
        )
    goal = request.goal or (primary.goal if primary and primary.name == metric else None)
    if goal is None:
        raise InvalidRequest(
            [FieldError("goal", f"is {metric!r} better high or low? give goal max or min")]
        )
    since: float | None = None
    if request.since:
        try:
            since = parse_duration(request.since)
        except ValueError as exc:
            raise InvalidRequest([FieldError("since", str(exc))]) from None
    registry.check_alias(request.alias)
    name = catalog.registered_model_name(task)
    if "/" in name or "\\" in name or name.startswith("."):
        raise InvalidRequest(
            [FieldError("task", f"registered model name {name!r} cannot name an FTP folder")]
        )
    return _Plan(
        task=task,
        metric=metric,
        goal=goal,
        since=since,
        since_text=request.since if since else None,
        alias=request.alias,
        registered_model=name,
        experiment=catalog.experiment_name(task),
    )


def _result(
    plan: _Plan,
    choice: Choice,
    version: int,
    *,
    already: bool,
    ftp: FtpResult | None,
    notes: list[str],
) -> PublishResult:
    c = choice.candidate
    return PublishResult(
        task=plan.task,
        vtm_run_id=c.vtm_run.id,
        mlflow_run_id=c.mlflow_run_id,
        model_uri=choice.model_uri,
        metric_name=plan.metric,
        metric_goal=plan.goal,
        metric_value=c.value,
        registered_model=plan.registered_model,
        version=version,
        alias=plan.alias,
        already_published=already,
        ftp=ftp,
        notes=notes,
    )


def _registry_only(client: MlflowClient, plan: _Plan, choice: Choice) -> PublishResult:
    name, alias = plan.registered_model, plan.alias
    version = registry.existing_version(client, name, choice.candidate.mlflow_run_id)
    if version is not None and registry.aliases(client, name).get(alias) == version:
        return _result(plan, choice, version, already=True, ftp=None, notes=[NO_FTP_NOTE])
    registration = _registration(client, plan, choice, version)
    try:
        registry.set_alias(client, name, alias, registration.version)
    except BaseException:
        registry.undo(client, registration)
        raise
    _log_done(plan, choice, registration.version, None)
    return _result(plan, choice, registration.version, already=False, ftp=None, notes=[NO_FTP_NOTE])


def _registration(
    client: MlflowClient, plan: _Plan, choice: Choice, version: int | None
) -> registry.Registration:
    if version is not None:
        return registry.Registration(plan.registered_model, version, False, False)
    return registry.register(client, plan.registered_model, choice, plan.task)


def _with_ftp(
    settings: Settings, client: MlflowClient, ftp: FtpSession, plan: _Plan, choice: Choice
) -> PublishResult:
    name, alias = plan.registered_model, plan.alias
    version = registry.existing_version(client, name, choice.candidate.mlflow_run_id)
    current = registry.aliases(client, name).get(alias)
    if version is not None:
        published = _complete_card(ftp, ftp.path(name, str(version)), choice, version)
        if published is not None:
            if current == version:
                return _result(plan, choice, version, already=True, ftp=published, notes=[])
            # Files in place, alias elsewhere: moving the alias is all there is to do.
            registry.set_alias(client, name, alias, version)
            _log_done(plan, choice, version, published)
            return _result(plan, choice, version, already=False, ftp=published, notes=[])

    with tempfile.TemporaryDirectory(prefix="vtm-publish-") as tmp:
        local = _download(settings, choice, Path(tmp) / "model")
        registration = _registration(client, plan, choice, version)
        folder = ftp.path(name, str(registration.version))
        upload: FolderUpload | None = None
        try:
            if version is None:  # a new version's folder may hold leftovers of another store
                _complete_card(ftp, folder, choice, registration.version)
            upload = _start_upload(ftp, folder)
            uploaded = _upload(upload, local, _facts(plan, choice, registration.version))
            if current != registration.version:
                registry.set_alias(client, name, alias, registration.version)
        except BaseException as exc:
            left = upload.rollback() if upload is not None else []
            left += registry.undo(client, registration)
            if left and isinstance(exc, UpstreamError):
                raise UpstreamError(f"{exc} (and could not clean up: {', '.join(left)})") from exc
            raise
    notes = [] if version is None else [f"version {version} came from this run already: reused"]
    _log_done(plan, choice, registration.version, uploaded)
    return _result(plan, choice, registration.version, already=False, ftp=uploaded, notes=notes)


def _download(settings: Settings, choice: Choice, into: Path) -> Path:
    """The folder holding the logged model's own files (its artifact location, not its
    ``models:/`` URI, whose download adds a file of MLflow's)."""
    from mlflow.artifacts import download_artifacts

    into.mkdir()
    with mlflow_errors(f"download the files of model {choice.model.model_id}"):
        local = download_artifacts(
            artifact_uri=choice.model.artifact_location,
            dst_path=str(into),
            tracking_uri=settings.effective_mlflow_tracking_uri,
        )
    return Path(local)


def _facts(plan: _Plan, choice: Choice, version: int) -> CardFacts:
    c = choice.candidate
    data = c.mlflow_run.data
    return CardFacts(
        task=plan.task,
        vtm_run_id=c.vtm_run.id,
        mlflow_run_id=c.mlflow_run_id,
        model_uri=choice.model_uri,
        registered_model=plan.registered_model,
        version=version,
        alias=plan.alias,
        metric_name=plan.metric,
        metric_goal=plan.goal,
        metric_value=c.value,
        params={str(k): str(v) for k, v in data.params.items()},
        metrics={str(k): float(v) for k, v in data.metrics.items()},
        published_at=datetime.now(UTC),
    )


def _complete_card(ftp: FtpSession, folder: str, choice: Choice, version: int) -> FtpResult | None:
    """The folder's published content when its card says it holds this run's model.

    A folder holding another model's card is refused; a folder without a card is what an
    interrupted upload left, and is emptied for the new one.
    """
    target = ftp.target
    with failing(target, f"look into {folder}"):
        if not ftp.is_dir(folder):
            return None
        entries = dict(ftp.entries(folder))
    if CARD_NAME not in entries:
        if entries:
            log.warning("clearing %s on %s: an earlier upload did not finish", folder, target)
            with failing(target, f"clear the incomplete folder {folder}"):
                ftp.clear(folder)
        return None
    with failing(target, f"read {folder}/{CARD_NAME}"):
        raw = ftp.read(f"{folder}/{CARD_NAME}")
    card = read_card(raw)
    if not _same_model(card, choice, version):
        raise UpstreamError(
            f"FTP registry {target.redacted}: {folder} already holds another model "
            f"(its {CARD_NAME} names another run or version, or is unreadable); "
            "not overwriting it"
        )
    assert card is not None
    return FtpResult(target.redacted, folder, [*card_files(card), _card_entry(raw)])


def _same_model(card: dict[str, Any] | None, choice: Choice, version: int) -> bool:
    return (
        card is not None
        and card.get("mlflowRunId") == choice.candidate.mlflow_run_id
        and card.get("version") == version
    )


def _card_entry(raw: bytes) -> FileEntry:
    size, sha = digest_bytes(raw)
    return FileEntry(CARD_NAME, size, sha)


def _start_upload(ftp: FtpSession, folder: str) -> FolderUpload:
    with failing(ftp.target, f"create {folder}"):
        created = ftp.make_dirs(folder)
    return FolderUpload(ftp, folder, created)


def _upload(upload: FolderUpload, local: Path, facts: CardFacts) -> FtpResult:
    files = [upload.put_file(name, path) for name, path in model_files(local)]
    card = upload.put_bytes(CARD_NAME, render_card(facts, files))  # last: marks it complete
    return FtpResult(upload.session.target.redacted, upload.folder, [*files, card])


def _log_done(plan: _Plan, choice: Choice, version: int, ftp: FtpResult | None) -> None:
    log.info(
        "published %s version %s (alias %s) from run %s (%s=%s)%s",
        plan.registered_model,
        version,
        plan.alias,
        choice.candidate.vtm_run.id,
        plan.metric,
        choice.candidate.value,
        f" to {ftp.url} {ftp.folder}" if ftp else "",
    )
