"""VTM's test kit: what VTM's tests, the Airflow provider's tests and the benchmarks share.

One job a module: ``server`` (a real `vtm serve` on loopback), ``waiting`` (polled conditions
with deadlines), ``ports``, ``processes`` (finding and killing what a test started),
``chromium`` (the browser and its arguments), ``airflow_home`` and ``airflow_api`` (Airflow
homes and Airflow's REST API), ``mlflow_store`` (a ready embedded MLflow store to copy),
``exec_spare`` (a `vtm exec-spare` on a socket of its own).
Standard library, httpx and psutil only: it is imported from VTM's environment, Airflow's and
the benchmarks, and runs VTM and Airflow as commands, never importing them.
"""

from vtm_testkit.ports import free_port
from vtm_testkit.processes import kill_home, kill_marked, processes_with_env
from vtm_testkit.server import TERMINAL, VtmServer
from vtm_testkit.waiting import WaitTimeout, wait_for

__all__ = [
    "TERMINAL",
    "VtmServer",
    "WaitTimeout",
    "free_port",
    "kill_home",
    "kill_marked",
    "processes_with_env",
    "wait_for",
]
