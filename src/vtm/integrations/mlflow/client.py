"""One MLflow client per tracking URI, and the environment that links a trainer to MLflow.

``mlflow`` is imported lazily: it costs seconds, and neither the CLI nor a server start
should pay for it before MLflow is actually used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from vtm.errors import UpstreamError
from vtm.redaction import redact_urls
from vtm.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient

VTM_RUN_TAG = "vtm.run_id"
VTM_TASK_TAG = "vtm.task"

_clients: dict[str, MlflowClient] = {}
_lock = threading.Lock()


def tracking_client(settings: Settings) -> MlflowClient:
    """A client on ``settings``' tracking URI; the embedded store's folder is created first."""
    uri = settings.effective_mlflow_tracking_uri
    with _lock:
        client = _clients.get(uri)
        if client is None:
            if settings.mlflow_embedded:
                settings.mlflow_artifact_root.mkdir(parents=True, exist_ok=True)
            else:
                # MLflow's default retries a down server for minutes, and a page or publish
                # would hang as long; fail within seconds unless the operator chose otherwise.
                os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
                os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
            from mlflow import MlflowClient

            client = _clients[uri] = MlflowClient(tracking_uri=uri, registry_uri=uri)
        return client


@contextmanager
def mlflow_errors(action: str) -> Iterator[None]:
    """Turn MLflow's own failures into an :class:`UpstreamError` naming ``action``."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    # ``from None``: the original may quote a URL with its password, and must not be chained.
    except MlflowException as exc:
        raise UpstreamError(redact_urls(f"MLflow could not {action}: {exc.message}")) from None
    except OSError as exc:
        raise UpstreamError(redact_urls(f"MLflow could not {action}: {exc}")) from None


def ensure_experiment(settings: Settings, name: str) -> str:
    """The id of experiment ``name``; an embedded store creates it under VTM's artifact root
    (MLflow's default is ``./mlruns`` in whatever directory the caller happens to be)."""
    client = tracking_client(settings)
    with mlflow_errors(f"find or create experiment {name!r}"):
        found = client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        location = (
            (settings.mlflow_artifact_root / name).as_uri() if settings.mlflow_embedded else None
        )
        from mlflow.exceptions import MlflowException

        try:
            return str(client.create_experiment(name, artifact_location=location))
        except MlflowException:
            # Another process created it between the lookup and the create.
            again = client.get_experiment_by_name(name)
            if again is None:
                raise
            return str(again.experiment_id)


def trainer_env(settings: Settings, experiment: str) -> dict[str, str]:
    """What a trainer needs to log to the right MLflow experiment (MLflow reads both names)."""
    env = {
        "MLFLOW_TRACKING_URI": settings.effective_mlflow_tracking_uri,
        "MLFLOW_EXPERIMENT_NAME": experiment,
    }
    if settings.mlflow_embedded:
        env["VTM_MLFLOW_ARTIFACT_ROOT"] = str(settings.mlflow_artifact_root)
    return env
