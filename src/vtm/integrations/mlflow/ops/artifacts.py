"""A run's or a logged model's files: listings with path checks, and single files to send."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from vtm.errors import FieldError, InvalidRequest, NotFound
from vtm.integrations.mlflow.ops.tracking import logged_model, run
from vtm.relpath import relative_path
from vtm.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import FileInfo

from vtm.integrations.mlflow.ops._calls import (
    calling,
    client_of,
)

# -- artifacts ---------------------------------------------------------------------------


def artifact_path(path: str | None) -> str:
    """A relative artifact path in MLflow's form ('' = the root); anything that could reach
    outside the run's or model's artifacts is refused."""
    return relative_path(path, "the artifacts")


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
    client = client_of(settings)
    with calling(f"list the artifacts of run {run_id}"):
        return _listing(_Lister(client, found.info.run_id, None), relative, f"run {run_id}")


def model_artifacts(settings: Settings, model_id: str, path: str | None) -> list[FileInfo]:
    relative = artifact_path(path)
    found = logged_model(settings, model_id)
    client = client_of(settings)
    with calling(f"list the artifacts of logged model {model_id}"):
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
    client = client_of(settings)
    with calling(f"download {relative!r} of run {run_id}"):
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
    client = client_of(settings)
    with calling(f"download {relative!r} of logged model {model_id}"):
        return _fetch(
            _Lister(client, None, found.model_id),
            found.artifact_location,
            relative,
            f"model {model_id}",
            _Downloader(settings, client, None, found.artifact_location),
        )
