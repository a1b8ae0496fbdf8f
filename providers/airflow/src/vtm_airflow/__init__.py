"""Apache Airflow provider for VTM.

VtmHook               all HTTP to VTM (connection type ``vtm``), retried across VTM restarts
VtmRunOperator        start a catalog task's run, wait (or defer) for it, succeed on completed
VtmExecOperator       train a catalog task on the worker itself (`vtm exec`), recorded in VTM
VtmRunSensor          wait for a run started elsewhere
VtmPublishOperator    publish a task's best model (MLflow registry + FTP)
VtmReportOperator     fetch or write the quality report
VtmRunTrigger         the deferred wait
dags_from_catalog     one DAG per pipeline of the catalog
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "VtmExecOperator",
    "VtmHook",
    "VtmPublishOperator",
    "VtmReportOperator",
    "VtmRunOperator",
    "VtmRunSensor",
    "VtmRunTrigger",
    "__version__",
    "dags_from_catalog",
]


def __getattr__(name: str) -> object:
    # Lazy: Airflow imports the package for its provider info, which must not pull in the
    # operators (and Airflow's SDK) on every CLI start.
    if name == "VtmHook":
        from vtm_airflow.hooks.vtm import VtmHook

        return VtmHook
    if name in ("VtmRunOperator", "VtmPublishOperator", "VtmReportOperator"):
        from vtm_airflow.operators import vtm as operators

        return getattr(operators, name)
    if name == "VtmExecOperator":
        from vtm_airflow.operators.exec import VtmExecOperator

        return VtmExecOperator
    if name == "VtmRunSensor":
        from vtm_airflow.sensors.vtm import VtmRunSensor

        return VtmRunSensor
    if name == "VtmRunTrigger":
        from vtm_airflow.triggers.vtm import VtmRunTrigger

        return VtmRunTrigger
    if name == "dags_from_catalog":
        from vtm_airflow.dags import dags_from_catalog

        return dags_from_catalog
    raise AttributeError(name)
