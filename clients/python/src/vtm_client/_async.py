"""``AsyncVtmClient``: VTM's API from asyncio code (the Airflow provider's trigger, which runs
in the triggerer's event loop). The same calls and rules as ``VtmClient``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, cast

import httpx

from vtm_client import _calls
from vtm_client._calls import PUBLISH_TIMEOUT_SECONDS, Call
from vtm_client._errors import ApiError
from vtm_client._exchange import (
    RECONNECT_PAUSE_SECONDS,
    base_url_of,
    checked,
    client_options,
    decoded,
    request_options,
    stream_timeout,
    unreachable,
)
from vtm_client._retry import Backoff
from vtm_client._sse import DISCONNECTED, SseEvent, SseParser
from vtm_client._types import (
    AirflowContext,
    ClusterRunClaimed,
    ExternalRunAccepted,
    Gate,
    Goal,
    LogPage,
    OutputAccepted,
    ReportFormat,
    RunPage,
)


class AsyncVtmClient:
    """``VtmClient``'s calls, awaitable; ``aclose()`` it, or use ``async with``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry_seconds: float = 0.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url_of(base_url)
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self._http = httpx.AsyncClient(
            **client_options(self.base_url, token, timeout), transport=transport
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"  # never the token

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncVtmClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, call: Call) -> Any:
        backoff = Backoff(self.retry_seconds, call.idempotent)
        while True:
            try:
                response = await self._http.request(call.method, call.path, **request_options(call))
                return decoded(call, checked(call, response))
            except (httpx.TransportError, ApiError) as exc:
                pause = backoff.next_pause(exc, call.what)
                if pause is None:
                    if isinstance(exc, httpx.TransportError):
                        raise unreachable(self.base_url, call, exc) from exc
                    raise
                await asyncio.sleep(pause)  # back-off between attempts

    # -- the server ------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_calls.health()))

    async def config(self) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_calls.config()))

    async def catalog(self) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_calls.catalog()))

    async def pipelines(self) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_calls.pipelines()))

    # -- runs ------------------------------------------------------------------------------

    async def start_run(
        self,
        task_id: str,
        fields: Mapping[str, Any] | None = None,
        *,
        airflow: AirflowContext | None = None,
        priority: int | None = None,
        executor: str | None = None,
    ) -> dict[str, Any]:
        """Start (or queue) a run of catalog task ``task_id``; its record. ``priority``: its
        place in the queue, higher first (default: the task's); ``executor``: where it trains,
        ``local`` or ``ray`` (default: the task's)."""
        call = _calls.start_run(task_id, fields, airflow, priority, executor)
        return cast(dict[str, Any], await self._send(call))

    async def set_priority(self, run_id: str, priority: int) -> dict[str, Any]:
        """Move a queued run in the queue; its record (ApiError 409 once it has started)."""
        return cast(dict[str, Any], await self._send(_calls.set_priority(run_id, priority)))

    async def gpus(self) -> dict[str, Any]:
        """The server's GPUs: ``{"gpus": [...], "source": "nvml" | "declared"}``."""
        return cast(dict[str, Any], await self._send(_calls.gpus()))

    async def get_run(self, run_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_calls.get_run(run_id)))

    async def list_runs(
        self,
        *,
        status: Sequence[str] = (),
        task_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        id_prefix: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
    ) -> RunPage:
        """Runs, newest first, a page at a time (``nextCursor`` is the next page's cursor)."""
        call = _calls.list_runs(
            status, task_id, limit, cursor, id_prefix, created_after, created_before
        )
        return cast(RunPage, await self._send(call))

    async def stop_run(self, run_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_calls.stop_run(run_id)))

    async def logs(self, run_id: str, offset: int = 0, *, limit: int | None = None) -> LogPage:
        """One page of the run's output from byte ``offset``; go on from ``nextOffset``."""
        return cast(LogPage, await self._send(_calls.logs(run_id, offset, limit)))

    async def events(
        self, run_id: str | None = None, *, reconnect_seconds: float = 60.0
    ) -> AsyncGenerator[SseEvent, None]:
        """The event stream (``run.created``, ``run.updated``, ``run.finished``, ``hello``,
        ``resync``…), only ``run_id``'s runs if given.

        When the stream breaks it yields a ``disconnected`` event and reconnects with
        ``Last-Event-ID`` (VTM replays what was missed, or sends ``resync``); raises
        ``Unreachable`` once no server has answered for ``reconnect_seconds``.
        """
        last_id: str | None = None
        down_since: float | None = None
        while True:
            call = _calls.events(run_id, last_id)
            try:
                async with self._http.stream(
                    call.method,
                    call.path,
                    **request_options(call),
                    timeout=stream_timeout(self.timeout),
                ) as response:
                    if not response.is_success:
                        await response.aread()
                        checked(call, response)
                    down_since = None
                    parser = SseParser()
                    async for line in response.aiter_lines():
                        event = parser.feed(line)
                        if event is not None:
                            last_id = event.id or last_id
                            yield event
            except httpx.TransportError as exc:
                now = time.monotonic()
                if down_since is None:
                    down_since = now
                if now - down_since > reconnect_seconds:
                    raise unreachable(self.base_url, call, exc) from exc
                yield SseEvent(None, DISCONNECTED, "{}")
                await asyncio.sleep(RECONNECT_PAUSE_SECONDS)  # back-off between reconnects

    # -- models and the report -------------------------------------------------------------

    async def publish(
        self,
        task: str,
        *,
        run_id: str | None = None,
        metric: str | None = None,
        goal: Goal | None = None,
        since: str | None = None,
        alias: str | None = None,
        gate: Gate | None = None,
        timeout: float | None = PUBLISH_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """Publish ``task``'s best model (or ``run_id``'s); VTM answers once it is uploaded.
        A model refused by the task's floor or the gate is ApiError code ``not_published``."""
        call = _calls.publish(task, run_id, metric, goal, since, alias, gate, timeout)
        return cast(dict[str, Any], await self._send(call))

    async def report(
        self, *, since: str | None = None, task: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """The quality report's JSON, over the runs created within ``since`` ("7d")."""
        return cast(
            dict[str, Any], await self._send(_calls.report("json", since, task, timeout, False))
        )

    async def report_text(
        self,
        fmt: ReportFormat,
        *,
        since: str | None = None,
        task: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """The quality report as VTM renders it: ``html``, ``md`` or ``json`` text."""
        return cast(str, await self._send(_calls.report(fmt, since, task, timeout, True)))

    # -- runs supervised elsewhere (`vtm exec`) --------------------------------------------

    async def register_external_run(
        self,
        run_id: str,
        *,
        task_id: str,
        fields: Mapping[str, Any],
        command: Sequence[str],
        host: str,
        airflow: AirflowContext | None = None,
        mlflow_experiment: str | None = None,
    ) -> ExternalRunAccepted:
        """Record a run started on another machine (running from now on); registering the
        same id again returns it."""
        call = _calls.register_external_run(
            run_id, task_id, fields, command, host, airflow, mlflow_experiment
        )
        return cast(ExternalRunAccepted, await self._send(call))

    async def claim_cluster_run(
        self,
        run_id: str,
        *,
        ticket: str,
        task_id: str,
        host: str,
        gpus: Sequence[int],
        command: Sequence[str],
    ) -> ClusterRunClaimed:
        """Take up the run a cluster job was submitted for: its one-time ``ticket`` for the
        run's own token (the answer's ``token``), good for its output and finish only."""
        call = _calls.claim_cluster_run(run_id, ticket, task_id, host, gpus, command)
        return cast(ClusterRunClaimed, await self._send(call))

    async def append_output(self, run_id: str, offset: int, data: bytes = b"") -> OutputAccepted:
        """The run's output bytes from ``offset`` on (none: a heartbeat); go on from
        ``received``."""
        return cast(OutputAccepted, await self._send(_calls.append_output(run_id, offset, data)))

    async def finish_external_run(
        self, run_id: str, *, status: str, exit_code: int | None, error: str | None, size: int
    ) -> dict[str, Any]:
        """How the run ended, once all ``size`` bytes of its output were appended."""
        call = _calls.finish_external_run(run_id, status, exit_code, error, size)
        return cast(dict[str, Any], await self._send(call))
