"""``VtmRunTrigger``: waits in the triggerer for a VTM run to end, so no worker slot is held.

Its keyword arguments are primitives (Airflow stores them); the token is not among them: the
trigger reads the connection again when it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from vtm_airflow._client import TERMINAL, AsyncVtmClient, VtmApiError


class VtmRunTrigger(BaseTrigger):
    def __init__(
        self,
        run_id: str,
        vtm_conn_id: str = "vtm_default",
        poll_interval: float = 2.0,
        retry_seconds: float = 120.0,
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.vtm_conn_id = vtm_conn_id
        self.poll_interval = poll_interval
        self.retry_seconds = retry_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "vtm_conn_id": self.vtm_conn_id,
                "poll_interval": self.poll_interval,
                "retry_seconds": self.retry_seconds,
            },
        )

    async def _endpoint(self) -> Any:
        from asgiref.sync import sync_to_async

        from vtm_airflow.hooks.vtm import VtmHook

        conn = await sync_to_async(VtmHook.get_connection)(self.vtm_conn_id)
        return VtmHook.endpoint_of(conn, self.retry_seconds)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        client = AsyncVtmClient(await self._endpoint())
        try:
            while True:
                run = await client.json("GET", f"/api/runs/{self.run_id}")
                if run["status"] in TERMINAL:
                    yield TriggerEvent({"status": "ended", "run": run})
                    return
                await asyncio.sleep(self.poll_interval)
        except VtmApiError as exc:
            yield TriggerEvent({"status": "error", "runId": self.run_id, "message": str(exc)})
        finally:
            await client.aclose()
