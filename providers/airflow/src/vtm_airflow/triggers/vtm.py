"""``VtmRunTrigger``: waits in the triggerer for a VTM run to end, so no worker slot is held.

Its keyword arguments are primitives (Airflow stores them); the token is not among them: the
trigger reads the connection again when it runs. It yields exactly one event:
``{"status": "ended", "run": RUN}`` once the run is completed, failed or stopped;
``{"status": "timeout", "run": RUN}`` when ``deadline`` (a Unix time) passed first, after
asking VTM to stop the run; ``{"status": "error", "runId": ID, "message": ...}`` when VTM
could not be asked for longer than ``retry_seconds``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from vtm_client import TERMINAL_STATUSES, AsyncVtmClient, VtmClientError

from vtm_airflow.hooks.vtm import STOP_RETRY_SECONDS


class VtmRunTrigger(BaseTrigger):
    def __init__(
        self,
        run_id: str,
        vtm_conn_id: str = "vtm_default",
        poll_interval: float = 2.0,
        retry_seconds: float = 120.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow leaves it unannotated
        self.run_id = run_id
        self.vtm_conn_id = vtm_conn_id
        self.poll_interval = poll_interval
        self.retry_seconds = retry_seconds
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "vtm_conn_id": self.vtm_conn_id,
                "poll_interval": self.poll_interval,
                "retry_seconds": self.retry_seconds,
                "deadline": self.deadline,
            },
        )

    async def _client(self, retry_seconds: float) -> AsyncVtmClient:
        from vtm_airflow.hooks.vtm import VtmHook

        conn = await VtmHook.aget_connection(self.vtm_conn_id)
        return VtmHook.endpoint_of(conn, retry_seconds).async_client()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        client = await self._client(self.retry_seconds)
        try:
            while True:
                run = await client.get_run(self.run_id)
                if run["status"] in TERMINAL_STATUSES:
                    yield TriggerEvent({"status": "ended", "run": run})
                    return
                if self.deadline is not None and time.time() >= self.deadline:
                    run = await client.stop_run(self.run_id)
                    yield TriggerEvent({"status": "timeout", "run": run})
                    return
                await asyncio.sleep(self.poll_interval)
        except VtmClientError as exc:
            yield TriggerEvent({"status": "error", "runId": self.run_id, "message": str(exc)})
        finally:
            await client.aclose()

    async def on_kill(self) -> None:
        """A person cleared or marked the deferred task: stop the training as well."""
        async with await self._client(STOP_RETRY_SECONDS) as client:
            await client.stop_run(self.run_id)
            self.log.info("stopped VTM run %s", self.run_id)
