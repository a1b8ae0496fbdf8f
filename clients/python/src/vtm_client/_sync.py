"""``VtmClient``: VTM's API from synchronous code (the CLI, `vtm exec`, Airflow operators)."""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping, Sequence
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


class VtmClient:
    """VTM's REST API at ``base_url``; ``token`` is VTM_TOKEN if the server has one.

    A connection error or a 5xx answer is retried with a growing pause for ``retry_seconds``
    (default 0: no retries); a call that is not idempotent (starting a run) only when the
    request cannot have reached VTM. Errors are ``ApiError`` (VTM refused) and ``Unreachable``
    (no answer), both ``VtmClientError``. Close it, or use it as a context manager.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry_seconds: float = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url_of(base_url)
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self._http = httpx.Client(
            **client_options(self.base_url, token, timeout), transport=transport
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"  # never the token

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VtmClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sending ---------------------------------------------------------------------------

    def _send(self, call: Call) -> Any:
        backoff = Backoff(self.retry_seconds, call.idempotent)
        while True:
            try:
                response = self._http.request(call.method, call.path, **request_options(call))
                return decoded(call, checked(call, response))
            except (httpx.TransportError, ApiError) as exc:
                pause = backoff.next_pause(exc, call.what)
                if pause is None:
                    if isinstance(exc, httpx.TransportError):
                        raise unreachable(self.base_url, call, exc) from exc
                    raise
                time.sleep(pause)  # back-off between attempts

    # -- the server ------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_calls.health()))

    def config(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_calls.config()))

    def catalog(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_calls.catalog()))

    def pipelines(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_calls.pipelines()))

    # -- runs ------------------------------------------------------------------------------

    def start_run(
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
        return cast(dict[str, Any], self._send(call))

    def set_priority(self, run_id: str, priority: int) -> dict[str, Any]:
        """Move a queued run in the queue; its record (ApiError 409 once it has started)."""
        return cast(dict[str, Any], self._send(_calls.set_priority(run_id, priority)))

    def gpus(self) -> dict[str, Any]:
        """The server's GPUs: ``{"gpus": [...], "source": "nvml" | "declared"}``."""
        return cast(dict[str, Any], self._send(_calls.gpus()))

    def get_run(self, run_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_calls.get_run(run_id)))

    def list_runs(
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
        return cast(RunPage, self._send(call))

    def stop_run(self, run_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_calls.stop_run(run_id)))

    def logs(self, run_id: str, offset: int = 0, *, limit: int | None = None) -> LogPage:
        """One page of the run's output from byte ``offset``; go on from ``nextOffset``."""
        return cast(LogPage, self._send(_calls.logs(run_id, offset, limit)))

    def events(
        self, run_id: str | None = None, *, reconnect_seconds: float = 60.0
    ) -> Generator[SseEvent, None, None]:
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
                with self._http.stream(
                    call.method,
                    call.path,
                    **request_options(call),
                    timeout=stream_timeout(self.timeout),
                ) as response:
                    if not response.is_success:
                        response.read()
                        checked(call, response)
                    down_since = None
                    parser = SseParser()
                    for line in response.iter_lines():
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
                time.sleep(RECONNECT_PAUSE_SECONDS)  # back-off between reconnects

    # -- models and the report -------------------------------------------------------------

    def publish(
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
        return cast(dict[str, Any], self._send(call))

    def report(
        self, *, since: str | None = None, task: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """The quality report's JSON, over the runs created within ``since`` ("7d")."""
        return cast(dict[str, Any], self._send(_calls.report("json", since, task, timeout, False)))

    def report_text(
        self,
        fmt: ReportFormat,
        *,
        since: str | None = None,
        task: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """The quality report as VTM renders it: ``html``, ``md`` or ``json`` text."""
        return cast(str, self._send(_calls.report(fmt, since, task, timeout, True)))

    # -- runs supervised elsewhere (`vtm exec`) --------------------------------------------

    def register_external_run(
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
        return cast(ExternalRunAccepted, self._send(call))

    def claim_cluster_run(
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
        return cast(ClusterRunClaimed, self._send(call))

    def append_output(self, run_id: str, offset: int, data: bytes = b"") -> OutputAccepted:
        """The run's output bytes from ``offset`` on (none: a heartbeat); go on from
        ``received``."""
        return cast(OutputAccepted, self._send(_calls.append_output(run_id, offset, data)))

    def finish_external_run(
        self, run_id: str, *, status: str, exit_code: int | None, error: str | None, size: int
    ) -> dict[str, Any]:
        """How the run ended, once all ``size`` bytes of its output were appended."""
        call = _calls.finish_external_run(run_id, status, exit_code, error, size)
        return cast(dict[str, Any], self._send(call))
