"""Publish a task's model: choose the run (the best, or the one asked for), judge it (the
task's floor, a pipeline step's gate: ``gate.py``), register its model, upload it to the FTP
registry, point the alias at it — all of it, or nothing.

Order matters for "nothing": everything that can fail without side effects goes first (the
request, the choice, the verdict, the FTP login, the download of the model's files); then the
registry version is created, the files uploaded (each verified, the card last), and only then
the alias moved. A failure after the version was created removes the uploaded files and the
version (and the registered model, when this publish created it), so the registry looks as it
did before.

Publishing the run whose version already exists, with its folder complete on the FTP server
and the alias already on it, changes nothing and says ``already_published``.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass, field, replace
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
from vtm.publish.gate import Floor, Gate, Verdict, check_floor, judge
from vtm.publish.selection import Choice, Goal, choose, choose_run
from vtm.settings import Settings
from vtm.store import RunData, RunRepository

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

DEFAULT_ALIAS = "champion"
NO_FTP_NOTE = "VTM_FTP_URL is not set: published to the MLflow registry only"

# One publish at a time in this process: two racing publishes of the same run would both
# find no version and both create one.
_publishing = threading.Lock()


@dataclass(frozen=True)
class GateRequest:
    """How a pipeline's publish step judges the model; unset parts come from the catalog."""

    evaluation_run_id: str | None = None
    metric: str | None = None
    goal: Goal | None = None
    min_metric: float | None = None
    against_champion: bool = True


@dataclass(frozen=True)
class PublishRequest:
    task: str
    metric: str | None = None
    goal: Goal | None = None
    since: str | None = None
    alias: str = DEFAULT_ALIAS
    run_id: str | None = None  # publish this run instead of the best one
    gate: GateRequest | None = None


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
    verdict: Verdict | None = None


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
    run_id: str | None = None
    floor: Floor | None = None
    gate: Gate | None = None


def publish(
    settings: Settings, catalog: Catalog, repo: RunRepository, request: PublishRequest
) -> PublishResult:
    """Publish the best run of ``request.task`` (or ``request.run_id``) if it passes its floor
    and gate; see the module's doc for the guarantees."""
    plan = _plan(catalog, request)
    plan = replace(
        plan,
        run_id=_asked_run(repo, request.run_id),
        gate=_gate(catalog, repo, request.gate, plan.metric, plan.goal),
    )
    target = FtpTarget.parse(settings.ftp_url.get_secret_value()) if settings.ftp_url else None
    with _publishing:
        client = tracking_client(settings)
        choice = _choose(client, repo, plan)
        verdict = _verdict(client, repo, plan, choice)
        if target is None:
            return _registry_only(client, plan, choice, verdict)
        with FtpSession.open(target) as ftp:  # reachable and logged in before any write
            return _with_ftp(settings, client, ftp, plan, choice, verdict)


def _choose(client: MlflowClient, repo: RunRepository, plan: _Plan) -> Choice:
    if plan.run_id is not None:
        return choose_run(
            client,
            repo,
            task=plan.task,
            experiment=plan.experiment,
            run_id=plan.run_id,
            metric=plan.metric,
        )
    return choose(
        client,
        repo,
        task=plan.task,
        experiment=plan.experiment,
        metric=plan.metric,
        goal=plan.goal,
        since=plan.since,
        since_text=plan.since_text,
    )


def _verdict(
    client: MlflowClient, repo: RunRepository, plan: _Plan, choice: Choice
) -> Verdict | None:
    """The floor and the gate; nothing to judge when the chosen model is the champion."""
    name = plan.registered_model
    version = registry.existing_version(client, name, choice.candidate.mlflow_run_id)
    champion = registry.aliases(client, name).get(plan.alias)
    if version is not None and version == champion:
        return None  # published already: the flows below say so
    check_floor(choice, plan.floor)
    if plan.gate is None:
        return None
    return judge(
        client,
        repo,
        choice,
        plan.gate,
        registered_model=name,
        alias=plan.alias,
        champion=champion,
    )


def _floor(catalog: Catalog, task: str) -> Floor | None:
    value = catalog.tasks[task].publish.min_metric
    primary = catalog.primary_metric(task)
    if value is None or primary is None:
        return None
    return Floor(task=task, metric=primary.name, goal=primary.goal, value=value)


def _gate(
    catalog: Catalog, repo: RunRepository, asked: GateRequest | None, metric: str, goal: Goal
) -> Gate | None:
    """The gate with its defaults: the evaluation task's primary metric, else the one the
    publish ranks by."""
    if asked is None:
        return None
    default_metric, default_goal = metric, goal
    if asked.evaluation_run_id is not None:
        evaluation = _evaluation_run(repo, asked.evaluation_run_id)
        primary = (
            catalog.primary_metric(evaluation.task_id)
            if evaluation.task_id in catalog.tasks
            else None
        )
        default_metric, default_goal = (primary.name, primary.goal) if primary else ("", "max")
    gate_metric = asked.metric or default_metric
    if not gate_metric:
        raise InvalidRequest(
            [FieldError("gate.metric", "the evaluation's task has no primary metric: name one")]
        )
    gate_goal = asked.goal or (default_goal if gate_metric == default_metric else None)
    if gate_goal is None:
        raise InvalidRequest(
            [FieldError("gate.goal", f"is {gate_metric!r} better high or low? give max or min")]
        )
    return Gate(
        metric=gate_metric,
        goal=gate_goal,
        min_metric=asked.min_metric,
        against_champion=asked.against_champion,
        evaluation_run_id=asked.evaluation_run_id,
    )


def _evaluation_run(repo: RunRepository, run_id: str) -> RunData:
    try:
        return repo.get(run_id)
    except NotFound:
        raise InvalidRequest([FieldError("gate.evaluationRunId", f"no run {run_id!r}")]) from None


def _asked_run(repo: RunRepository, run_id: str | None) -> str | None:
    if run_id is not None:
        try:
            repo.get(run_id)
        except NotFound:
            raise InvalidRequest([FieldError("runId", f"no run {run_id!r}")]) from None
    return run_id


def _plan(catalog: Catalog, request: PublishRequest) -> _Plan:
    """What the request asks for, checked against the catalog; the run and the gate, which
    need the store, are added by ``publish``."""
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
        floor=_floor(catalog, task),
    )


def _result(
    plan: _Plan,
    choice: Choice,
    version: int,
    *,
    already: bool,
    ftp: FtpResult | None,
    notes: list[str],
    verdict: Verdict | None,
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
        notes=[*(verdict.notes if verdict else []), *notes],
        verdict=verdict,
    )


def _registry_only(
    client: MlflowClient, plan: _Plan, choice: Choice, verdict: Verdict | None
) -> PublishResult:
    name, alias = plan.registered_model, plan.alias
    version = registry.existing_version(client, name, choice.candidate.mlflow_run_id)
    if version is not None and registry.aliases(client, name).get(alias) == version:
        return _result(
            plan, choice, version, already=True, ftp=None, notes=[NO_FTP_NOTE], verdict=verdict
        )
    registration = _registration(client, plan, choice, version, verdict)
    try:
        registry.set_alias(client, name, alias, registration.version)
    except BaseException:
        registry.undo(client, registration)
        raise
    _log_done(plan, choice, registration.version, None)
    return _result(
        plan,
        choice,
        registration.version,
        already=False,
        ftp=None,
        notes=[NO_FTP_NOTE],
        verdict=verdict,
    )


def _registration(
    client: MlflowClient,
    plan: _Plan,
    choice: Choice,
    version: int | None,
    verdict: Verdict | None,
) -> registry.Registration:
    """The version to publish: the run's existing one, or a new one. Either way it records
    what it was judged by, so the next challenger is compared with that."""
    tags = verdict.version_tags() if verdict else {}
    if version is not None:
        registry.tag_version(client, plan.registered_model, version, tags)
        return registry.Registration(plan.registered_model, version, False, False)
    return registry.register(client, plan.registered_model, choice, plan.task, tags)


def _with_ftp(
    settings: Settings,
    client: MlflowClient,
    ftp: FtpSession,
    plan: _Plan,
    choice: Choice,
    verdict: Verdict | None,
) -> PublishResult:
    name, alias = plan.registered_model, plan.alias
    version = registry.existing_version(client, name, choice.candidate.mlflow_run_id)
    current = registry.aliases(client, name).get(alias)
    if version is not None:
        published = _complete_card(ftp, ftp.path(name, str(version)), choice, version)
        if published is not None:
            if current == version:
                return _result(
                    plan, choice, version, already=True, ftp=published, notes=[], verdict=verdict
                )
            # Files in place, alias elsewhere: moving the alias is all there is to do.
            registry.tag_version(client, name, version, verdict.version_tags() if verdict else {})
            registry.set_alias(client, name, alias, version)
            _log_done(plan, choice, version, published)
            return _result(
                plan, choice, version, already=False, ftp=published, notes=[], verdict=verdict
            )

    with tempfile.TemporaryDirectory(prefix="vtm-publish-") as tmp:
        local = _download(settings, choice, Path(tmp) / "model")
        registration = _registration(client, plan, choice, version, verdict)
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
    return _result(
        plan,
        choice,
        registration.version,
        already=False,
        ftp=uploaded,
        notes=notes,
        verdict=verdict,
    )


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
