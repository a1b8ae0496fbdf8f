"""What every MLflow Ops query shares: MLflow's errors turned into VTM's, the client, and
values JSON can carry."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from vtm.errors import NotFound, UpstreamError
from vtm.integrations.mlflow.client import mlflow_errors, tracking_client
from vtm.redaction import redact_urls
from vtm.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient

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


@contextmanager
def calling(action: str, missing: str | None = None, *, malformed: bool = False) -> Iterator[None]:
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
        raise UpstreamError(redact_urls(str(exc))) from None


def client_of(settings: Settings) -> MlflowClient:
    with calling("open the tracking store"):
        return tracking_client(settings)


def finite(value: float | None) -> float | None:
    """NaN and infinities have no JSON form; they are shown as "no value"."""
    return value if value is not None and math.isfinite(value) else None


def escape(value: str) -> str:
    # MLflow's filter strings quote with '...' and take \' for a quote inside.
    return value.replace("\\", "\\\\").replace("'", "\\'")
