"""A real `vtm serve` for the provider's tests, from VTM's own environment (``.venv``).

The provider never imports VTM: Airflow's environment and VTM's are different (Airflow pins an
older FastAPI), so the server runs as VTM's command in a subprocess, as it does in production
(the test kit's server, with that command).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from vtm_testkit import VtmServer as KitServer
from vtm_testkit import free_port, wait_for

__all__ = ["REPO", "VTM_BIN", "VtmServer", "free_port", "wait_for"]

REPO = Path(__file__).resolve().parents[3]
VTM_BIN = Path(os.environ.get("VTM_TEST_SERVER_BIN", REPO / ".venv" / "bin" / "vtm"))


class VtmServer(KitServer):
    """`vtm serve` of VTM's environment with its own VTM_HOME, four runs at a time; the
    embedded MLflow store is created when the sample trainers first need it."""

    program = (str(VTM_BIN),)
    max_concurrent_runs = 4
    forked = True

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def runs(self) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.get("/api/runs", limit=500)["runs"]
        return runs

    def runs_of(self, dag_id: str, dag_run_id: str | None = None) -> list[dict[str, Any]]:
        """The VTM runs a DAG (run) started, oldest first."""
        found = [
            r
            for r in self.runs()
            if (a := r["origin"]["airflow"])
            and a["dagId"] == dag_id
            and (dag_run_id is None or a["runId"] == dag_run_id)
        ]
        return sorted(found, key=lambda r: r["createdAt"])

    def release(self, run_id: str) -> None:
        """Let a run of the step trainer started with wait_release=true finish."""
        with contextlib.suppress(FileNotFoundError):
            (self.home / "runs" / run_id / "release").touch()
