"""Whether the tracking store answers, said cheaply and without a password."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from vtm.integrations.mlflow.ops._calls import (
    STATUS_PROBE_SECONDS,
    calling,
    client_of,
)
from vtm.redaction import redact_uri, redact_urls
from vtm.settings import Settings

if TYPE_CHECKING:
    pass


# -- status ------------------------------------------------------------------------------


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
        error=None if error is None else redact_urls(error.replace(uri, redact_uri(uri))),
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
        client = client_of(settings)
        with calling("list experiments"):
            client.search_experiments(max_results=1)
        return None
    except httpx.HTTPError as exc:
        return f"MLflow cannot be reached: {type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a status report names any failure instead of raising
        return str(exc)
