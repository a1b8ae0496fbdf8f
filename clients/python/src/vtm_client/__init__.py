"""A Python client for VTM's REST API.

    from vtm_client import VtmClient

    with VtmClient("http://127.0.0.1:8000", token=None) as vtm:
        run = vtm.start_run("digits-cnn", {"epochs": 3})
        for event in vtm.events(run_id=run["id"]):
            ...

VtmClient, AsyncVtmClient   the calls (sync; asyncio), retries within ``retry_seconds``
VtmClientError              the base of every error the client raises
ApiError                    VTM answered an error: ``status``, ``code``, ``message``, ``fields``
Unreachable                 no answer: refused, no such host, timed out
SseEvent                    one event of ``events()``
AirflowContext, Gate        what a run start and a publish may carry (TypedDicts)
FieldError, RunPage, LogPage, ExternalRunAccepted, ClusterRunClaimed, OutputAccepted
                            answers' shapes
Goal, ReportFormat, RunStatus   the literal types of some parameters and answers
TERMINAL_STATUSES           the statuses a run ends in

It needs httpx only and never imports VTM's server.
"""

from __future__ import annotations

from vtm_client._async import AsyncVtmClient
from vtm_client._errors import ApiError, Unreachable, VtmClientError
from vtm_client._sse import SseEvent
from vtm_client._sync import VtmClient
from vtm_client._types import (
    TERMINAL_STATUSES,
    AirflowContext,
    ClusterRunClaimed,
    ExternalRunAccepted,
    FieldError,
    Gate,
    Goal,
    LogPage,
    OutputAccepted,
    ReportFormat,
    RunPage,
    RunStatus,
)
from vtm_client._version import __version__

__all__ = [
    "TERMINAL_STATUSES",
    "AirflowContext",
    "ApiError",
    "AsyncVtmClient",
    "ClusterRunClaimed",
    "ExternalRunAccepted",
    "FieldError",
    "Gate",
    "Goal",
    "LogPage",
    "OutputAccepted",
    "ReportFormat",
    "RunPage",
    "RunStatus",
    "SseEvent",
    "Unreachable",
    "VtmClient",
    "VtmClientError",
    "__version__",
]
