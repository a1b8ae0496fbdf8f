"""``VtmRunSensor``: waits for a VTM run started elsewhere (by id) to complete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from vtm_airflow.hooks.vtm import VtmHook


class VtmRunSensor(BaseSensorOperator):
    """True once the run is ``completed``; a ``failed`` or ``stopped`` run fails the sensor."""

    template_fields: Sequence[str] = ("vtm_run_id",)

    def __init__(
        self, *, vtm_run_id: str, vtm_conn_id: str = VtmHook.default_conn_name, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.vtm_run_id = vtm_run_id
        self.vtm_conn_id = vtm_conn_id

    def poke(self, context: Any) -> bool:
        hook = VtmHook(self.vtm_conn_id)
        try:
            run = hook.get_run(self.vtm_run_id)
        finally:
            hook.close()
        if run["status"] in ("failed", "stopped"):
            raise AirflowException(f"VTM run {self.vtm_run_id} ended {run['status']}")
        return bool(run["status"] == "completed")
