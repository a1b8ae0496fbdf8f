"""Read-only queries behind the MLflow Ops page: experiments, runs, metric history, artifacts,
logged models, the model registry, and the link from a VTM run to its MLflow run.

Every call goes through VTM's tracking client on the server (the browser never talks to
MLflow). A missing experiment, run, model or file becomes :class:`NotFound`; MLflow refusing
or being unreachable becomes :class:`UpstreamError` (``mlflow_errors``). These functions block:
the API calls them from plain ``def`` routes, which FastAPI runs in its thread pool.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

import httpx

from vtm.errors import FieldError, InvalidRequest, NotFound, UpstreamError
from vtm.integrations.mlflow.client import VTM_RUN_TAG, mlflow_errors, redact, tracking_client
from vtm.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Experiment, FileInfo, LoggedModel, Metric, Run
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

# MLflow's error codes for "no such thing"; a non-numeric experiment id is an invalid value
# to the SQL store, but to a person it is simply an experiment that does not exist.
_MISSING = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})
_MISSING_OR_MALFORMED = _MISSING | {"INVALID_PARAMETER_VALUE"}
# Upper bounds on what one request may ask MLflow for.
MAX_EXPERIMENTS = 1000
MAX_RUNS = 1000
# Runs one search reads to find each experiment's newest (see latest_run_times).
LATEST_RUNS_SCAN = 500
MAX_LOGGED_MODELS = 100
MAX_COMPARE = 10
MAX_VERSIONS = 200
STATUS_PROBE_SECONDS = 5.0
_SECRET_QUERY_KEYS = ("password", "secret", "token", "key")


@contextmanager
def _calling(action: str, missing: str | None = None, *, malformed: bool = False) -> Iterator[None]:
    """``mlflow_errors(action)``, except that MLflow's "not found" becomes NotFound(missing),
    and no password in a URL reaches the message."""
    from mlflow.exceptions import MlflowException

    codes = _MISSING_OR_MALFORMED if malformed else _MISSING
    try:
        with mlflow_errors(action):
            try:
                yield
            except MlflowException as exc:
                if missing is not None and exc.error_code in codes:
                    raise NotFound(missing) from exc
                raise
    except UpstreamError as exc:
        # Not chained: the original exception quotes the URL with its password.
        raise UpstreamError(redact(str(exc))) from None


def _client(settings: Settings) -> MlflowClient:
    with _calling("open the tracking store"):
        return tracking_client(settings)


def finite(value: float | None) -> float | None:
    """NaN and infinities have no JSON form; they are shown as "no value"."""
    return value if value is not None and math.isfinite(value) else None


# -- status ------------------------------------------------------------------------------


def redact_uri(uri: str) -> str:
    """``uri`` with any password (in the user part or a secret-looking query key) hidden."""
    parts = urlsplit(uri)
    # Edited in place: rebuilding with urlunsplit would turn sqlite://// into sqlite://.
    redacted = uri
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        if ":" in userinfo:
            redacted = redacted.replace(f"{userinfo}@", f"{userinfo.split(':', 1)[0]}:***@", 1)
    if parts.query:
        query = "&".join(
            f"{pair.split('=', 1)[0]}=***"
            if "=" in pair and any(k in pair.split("=", 1)[0].lower() for k in _SECRET_QUERY_KEYS)
            else pair
            for pair in parts.query.split("&")
        )
        redacted = redacted.replace(f"?{parts.query}", f"?{query}", 1)
    return redacted


# What the status says while the embedded store's tables are being created.
CREATING = "the embedded store is being created"


@dataclass(frozen=True)
class StoreStatus:
    tracking_uri: str
    embedded: bool
    ui_url: str | None
    reachable: bool
    error: str | None
    creating: bool = False


def status(
    settings: Settings, not_ready: str | None = None, ui_url: str | None = None
) -> StoreStatus:
    """Whether the tracking store answers, checked cheaply; never raises. ``not_ready``: why
    the store must not be touched now (the server is creating it), reported as the error."""
    uri = settings.effective_mlflow_tracking_uri
    error = not_ready if not_ready is not None else _probe(settings, uri)
    return StoreStatus(
        tracking_uri=redact_uri(uri),
        embedded=settings.mlflow_embedded,
        ui_url=ui_url,
        reachable=error is None,
        # The message may quote the URI it failed on.
        error=None if error is None else redact(error.replace(uri, redact_uri(uri))),
        creating=not_ready == CREATING,
    )


def _probe(settings: Settings, uri: str) -> str | None:
    """None when the store answers, else why not."""
    try:
        if urlsplit(uri).scheme in ("http", "https"):
            # MLflow's own client retries a dead server with back-off for minutes; a status
            # page must answer at once.
            response = httpx.get(
                uri.rstrip("/") + "/health", timeout=STATUS_PROBE_SECONDS, follow_redirects=True
            )
            if response.status_code >= 500:
                return f"MLflow answered HTTP {response.status_code}"
            return None
        client = _client(settings)
        with _calling("list experiments"):
            client.search_experiments(max_results=1)
        return None
    except httpx.HTTPError as exc:
        return f"MLflow cannot be reached: {type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a status report names any failure instead of raising
        return str(exc)


# -- experiments and runs ----------------------------------------------------------------


def experiments(settings: Settings) -> list[Experiment]:
    client = _client(settings)
    with _calling("list experiments"):
        found = client.search_experiments(
            max_results=MAX_EXPERIMENTS, order_by=["last_update_time DESC"]
        )
    return list(found)


def run_activity_ms(found: Run) -> int | None:
    """When ``found`` last did something: its end, or its start while it has not ended."""
    return found.info.end_time or found.info.start_time or None


def latest_run_times(settings: Settings, experiment_ids: Sequence[str]) -> dict[str, int]:
    """Per experiment, the activity time (``run_activity_ms``) of its newest run by start;
    experiments without runs are left out. MLflow's own ``last_update_time`` only moves when
    the experiment itself is edited, so this is what "last update" means to a person.

    One search over every experiment at once; only when that search fills a whole page (more
    runs than ``LATEST_RUNS_SCAN``) is each experiment it did not reach asked on its own."""
    ids = list(experiment_ids)
    if not ids:
        return {}
    client = _client(settings)
    latest: dict[str, int] = {}
    newest_first = ["attributes.start_time DESC"]
    with _calling("find the experiments' latest runs"):
        page = client.search_runs(ids, max_results=LATEST_RUNS_SCAN, order_by=newest_first)
        for found in page:
            when = run_activity_ms(found)
            if when is not None:
                latest.setdefault(found.info.experiment_id, when)
        if page.token:
            for experiment_id in ids:
                if experiment_id in latest:
                    continue
                one = client.search_runs([experiment_id], max_results=1, order_by=newest_first)
                when = run_activity_ms(one[0]) if one else None
                if when is not None:
                    latest[experiment_id] = when
    return latest


def experiment(settings: Settings, experiment_id: str) -> Experiment:
    client = _client(settings)
    with _calling(
        f"read experiment {experiment_id}",
        f"no MLflow experiment {experiment_id!r}",
        malformed=True,
    ):
        return client.get_experiment(experiment_id)


@dataclass(frozen=True)
class RunsPage:
    experiment: Experiment
    runs: list[Run]
    next_page_token: str | None


def runs(
    settings: Settings, experiment_id: str, max_results: int = 100, page_token: str | None = None
) -> RunsPage:
    """An experiment's runs, newest first, at most ``max_results`` of them."""
    from mlflow.exceptions import MlflowException

    found = experiment(settings, experiment_id)
    client = _client(settings)
    with _calling(f"list the runs of experiment {experiment_id}"):
        try:
            page = client.search_runs(
                [found.experiment_id],
                max_results=min(max_results, MAX_RUNS),
                order_by=["attributes.start_time DESC"],
                page_token=page_token,
            )
        except MlflowException as exc:
            if page_token and exc.error_code == "INVALID_PARAMETER_VALUE":
                raise InvalidRequest(
                    [FieldError("pageToken", "not a nextPageToken this server returned")]
                ) from exc
            raise
    return RunsPage(found, list(page), page.token or None)


def run(settings: Settings, run_id: str) -> Run:
    client = _client(settings)
    with _calling(f"read run {run_id}", f"no MLflow run {run_id!r}", malformed=True):
        return client.get_run(run_id)


def logged_models(settings: Settings, found: Run) -> list[LoggedModel]:
    """The models ``found`` logged (MLflow 3 keeps them beside the runs, not in their artifacts)."""
    client = _client(settings)
    with _calling(f"list the models of run {found.info.run_id}"):
        models = client.search_logged_models(
            experiment_ids=[found.info.experiment_id],
            # A run id from MLflow itself: hexadecimal, nothing to escape.
            filter_string=f"source_run_id = '{found.info.run_id}'",
            max_results=MAX_LOGGED_MODELS,
        )
    return sorted(models, key=lambda m: m.creation_timestamp or 0, reverse=True)


def logged_model(settings: Settings, model_id: str) -> LoggedModel:
    client = _client(settings)
    with _calling(
        f"read logged model {model_id}", f"no MLflow logged model {model_id!r}", malformed=True
    ):
        return client.get_logged_model(model_id)


def metric_history(settings: Settings, run_id: str, key: str) -> list[Metric]:
    found = run(settings, run_id)
    if key not in found.data.metrics:
        raise NotFound(f"MLflow run {run_id!r} has no metric {key!r}")
    client = _client(settings)
    with _calling(f"read the history of metric {key!r} of run {run_id}"):
        history = client.get_metric_history(run_id, key)
    return sorted(history, key=lambda m: (m.step, m.timestamp))


# -- comparing runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One param or metric across the compared runs, in their order (None: not logged)."""

    key: str
    values: list[str | float | None]
    differs: bool


def side_by_side(compared: Sequence[Run]) -> tuple[list[Row], list[Row]]:
    """Params and latest metrics of ``compared`` as rows; a row differs when any two runs
    disagree, a run that lacks the key included."""

    def rows(columns: list[dict[str, str | float | None]]) -> list[Row]:
        keys = sorted({k for column in columns for k in column})
        out = []
        for key in keys:
            values = [column.get(key) for column in columns]
            out.append(Row(key, values, len(set(map(repr, values))) > 1))
        return out

    params: list[dict[str, str | float | None]] = [dict(r.data.params) for r in compared]
    metrics: list[dict[str, str | float | None]] = [
        {k: finite(v) for k, v in r.data.metrics.items()} for r in compared
    ]
    return rows(params), rows(metrics)


def compare(settings: Settings, run_ids: Sequence[str]) -> tuple[list[Run], list[Row], list[Row]]:
    unique = list(dict.fromkeys(run_ids))
    if not 2 <= len(unique) <= MAX_COMPARE:
        raise InvalidRequest(
            [FieldError("runId", f"give 2 to {MAX_COMPARE} different run ids, not {len(unique)}")]
        )
    compared = [run(settings, run_id) for run_id in unique]
    params, metrics = side_by_side(compared)
    return compared, params, metrics


# -- artifacts ---------------------------------------------------------------------------


def artifact_path(path: str | None) -> str:
    """A relative artifact path in MLflow's form ('' = the root); anything that could reach
    outside the run's or model's artifacts is refused."""
    if not path:
        return ""
    bad = (
        path.startswith(("/", "\\"))
        or "\\" in path
        or "\0" in path
        or (len(path) > 1 and path[1] == ":")
        or ".." in PurePosixPath(path).parts
    )
    if bad:
        raise InvalidRequest(
            [FieldError("path", "must be a relative path inside the artifacts, without '..'")]
        )
    return "/".join(p for p in PurePosixPath(path).parts if p != ".")


def _parent(path: str) -> str | None:
    parent = str(PurePosixPath(path).parent)
    return None if parent == "." else parent


def _children(entries: list[FileInfo], path: str) -> list[FileInfo]:
    # Some artifact stores answer a file's own entry when asked to list it: keep children only.
    prefix = f"{path}/" if path else ""
    return sorted(
        (e for e in entries if e.path.startswith(prefix) and e.path != path),
        key=lambda e: (not e.is_dir, e.path),
    )


def _listing(lister: _Lister, path: str, what: str) -> list[FileInfo]:
    entries = _children(lister(path or None), path)
    # An empty answer is also MLflow's answer for a missing folder or a file: look it up.
    if path and not entries and not any(e.path == path and e.is_dir for e in lister(_parent(path))):
        raise NotFound(f"no folder {path!r} among the artifacts of {what}")
    return entries


class _Lister:
    """Lists one run's or one logged model's artifacts under a relative path."""

    def __init__(self, client: MlflowClient, run_id: str | None, model_id: str | None) -> None:
        self.client, self.run_id, self.model_id = client, run_id, model_id

    def __call__(self, path: str | None) -> list[FileInfo]:
        if self.run_id is not None:
            return list(self.client.list_artifacts(self.run_id, path))
        assert self.model_id is not None
        return list(self.client.list_logged_model_artifacts(self.model_id, path))


def run_artifacts(settings: Settings, run_id: str, path: str | None) -> list[FileInfo]:
    relative = artifact_path(path)
    found = run(settings, run_id)
    client = _client(settings)
    with _calling(f"list the artifacts of run {run_id}"):
        return _listing(_Lister(client, found.info.run_id, None), relative, f"run {run_id}")


def model_artifacts(settings: Settings, model_id: str, path: str | None) -> list[FileInfo]:
    relative = artifact_path(path)
    found = logged_model(settings, model_id)
    client = _client(settings)
    with _calling(f"list the artifacts of logged model {model_id}"):
        return _listing(_Lister(client, None, found.model_id), relative, f"model {model_id}")


@dataclass(frozen=True)
class ArtifactFile:
    """A file ready to send: ``local`` on this machine; ``scratch`` (if any) to remove after."""

    local: Path
    name: str
    scratch: Path | None

    def cleanup(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _local_root(artifact_uri: str) -> Path | None:
    """The folder behind a ``file:`` (or plain path) artifact URI; None for a remote store."""
    parts = urlsplit(artifact_uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme == "" or (len(parts.scheme) == 1 and artifact_uri[1:2] == ":"):
        return Path(artifact_uri)
    return None


def _fetch(
    lister: _Lister, root_uri: str, path: str, what: str, download: _Downloader
) -> ArtifactFile:
    if not path:
        raise InvalidRequest([FieldError("path", "name a file to download")])
    if not any(e.path == path and not e.is_dir for e in lister(_parent(path))):
        raise NotFound(f"no file {path!r} among the artifacts of {what}")
    name = PurePosixPath(path).name
    root = _local_root(root_uri)
    if root is not None:
        # A local store: send the file where it lies, no copy. The listing vouched for the
        # path; resolving it again keeps a symlink from leading out of the artifacts.
        local = (root / path).resolve()
        if local.is_relative_to(root.resolve()) and local.is_file():
            return ArtifactFile(local, name, None)
        raise NotFound(f"no file {path!r} among the artifacts of {what}")
    scratch = Path(tempfile.mkdtemp(prefix="vtm-artifact-"))
    try:
        return ArtifactFile(Path(download(path, str(scratch))), name, scratch)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


class _Downloader:
    """Copies one artifact file of a remote store into a scratch folder."""

    def __init__(
        self, settings: Settings, client: MlflowClient, run_id: str | None, model_uri: str | None
    ) -> None:
        self.tracking_uri = settings.effective_mlflow_tracking_uri
        self.client, self.run_id, self.model_uri = client, run_id, model_uri

    def __call__(self, path: str, dst: str) -> str:
        if self.run_id is not None:
            return self.client.download_artifacts(self.run_id, path, dst)
        assert self.model_uri is not None
        from mlflow.artifacts import download_artifacts

        return download_artifacts(
            artifact_uri=f"{self.model_uri.rstrip('/')}/{path}",
            dst_path=dst,
            tracking_uri=self.tracking_uri,
        )


def run_artifact_file(settings: Settings, run_id: str, path: str | None) -> ArtifactFile:
    relative = artifact_path(path)
    found = run(settings, run_id)
    client = _client(settings)
    with _calling(f"download {relative!r} of run {run_id}"):
        return _fetch(
            _Lister(client, found.info.run_id, None),
            found.info.artifact_uri,
            relative,
            f"run {run_id}",
            _Downloader(settings, client, found.info.run_id, None),
        )


def model_artifact_file(settings: Settings, model_id: str, path: str | None) -> ArtifactFile:
    relative = artifact_path(path)
    found = logged_model(settings, model_id)
    client = _client(settings)
    with _calling(f"download {relative!r} of logged model {model_id}"):
        return _fetch(
            _Lister(client, None, found.model_id),
            found.artifact_location,
            relative,
            f"model {model_id}",
            _Downloader(settings, client, None, found.artifact_location),
        )


# -- the model registry ------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredModelInfo:
    model: RegisteredModel
    aliases: dict[str, str]  # alias -> version
    versions: list[ModelVersion]  # newest first


def _escape(value: str) -> str:
    # MLflow's filter strings quote with '...' and take \' for a quote inside.
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _registered(client: MlflowClient, model: RegisteredModel) -> RegisteredModelInfo:
    name = model.name
    versions = client.search_model_versions(f"name = '{_escape(name)}'", max_results=MAX_VERSIONS)
    # search_model_versions leaves each version's aliases empty: the model holds them.
    detail = client.get_registered_model(name)
    aliases = {alias: str(version) for alias, version in (detail.aliases or {}).items()}
    ordered = sorted(
        versions, key=lambda v: int(v.version) if str(v.version).isdigit() else 0, reverse=True
    )
    return RegisteredModelInfo(detail, aliases, ordered)


def registered_models(settings: Settings, max_results: int = 100) -> list[RegisteredModelInfo]:
    client = _client(settings)
    with _calling("list registered models"):
        models = client.search_registered_models(max_results=max_results, order_by=["name ASC"])
        return [_registered(client, m) for m in models]


def registered_model(settings: Settings, name: str) -> RegisteredModelInfo:
    client = _client(settings)
    with _calling(f"read registered model {name!r}", f"no registered model {name!r}"):
        return _registered(client, client.get_registered_model(name))


# -- the VTM link ------------------------------------------------------------------------


def linked_run(
    settings: Settings, vtm_run_id: str, mlflow_run_id: str | None
) -> tuple[Run, Literal["stored", "tag"]]:
    """The MLflow run of VTM run ``vtm_run_id`` and how it was found: ``"stored"`` (the id VTM's
    store holds, ``mlflow_run_id``) or ``"tag"`` (the earliest run tagged ``vtm.run_id``, in
    any experiment: the linker only searches the task's own)."""
    if mlflow_run_id:
        try:
            return run(settings, mlflow_run_id), "stored"
        except NotFound:
            pass  # reported, but not in this store (deleted, or another server): try the tag
    client = _client(settings)
    with _calling(f"find the MLflow run tagged {VTM_RUN_TAG}={vtm_run_id}"):
        ids = [e.experiment_id for e in client.search_experiments(max_results=MAX_EXPERIMENTS)]
        found = (
            client.search_runs(
                ids,
                filter_string=f"tags.`{VTM_RUN_TAG}` = '{_escape(vtm_run_id)}'",
                max_results=1,
                # The earliest, like the linker: a trainer's main run starts before its others.
                order_by=["attributes.start_time ASC"],
            )
            if ids
            else []
        )
    if not found:
        raise NotFound(f"VTM run {vtm_run_id} has no MLflow run")
    return found[0], "tag"
