"""The DAGs the provider's tests run (this folder is their Airflow DAGs folder).

- the pilot pipelines of the sample catalog, built by ``dags_from_catalog`` exactly as in
  production (connection ``vtm_default``);
- the test catalog's pipelines (connection ``vtm_test``);
- a few DAGs written by hand with the operators, for the deferrable path, a VTM restart during
  a wait and the sensor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG

from vtm_airflow import VtmRunOperator, VtmRunSensor, dags_from_catalog

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
START = datetime(2026, 1, 1, tzinfo=UTC)
FAST = {"vtm_conn_id": "vtm_test", "poll_interval": 0.2}

globals().update(dags_from_catalog(REPO / "examples" / "training_catalog.yaml"))
globals().update(dags_from_catalog(HERE.parent / "trainers" / "catalog.yaml", "vtm_test"))

with DAG("deferred", schedule=None, start_date=START, catchup=False) as deferred:
    VtmRunOperator(task_id="train", vtm_task="step", fields={"epochs": 3}, deferrable=True, **FAST)

with DAG("deferred-too-slow", schedule=None, start_date=START, catchup=False) as too_slow:
    VtmRunOperator(
        task_id="slow",
        vtm_task="step",
        fields={"wait_release": True},
        deferrable=True,
        execution_timeout=timedelta(seconds=3),
        **FAST,
    )

for mode in ("sync", "deferred"):
    with DAG(f"restart-{mode}", schedule=None, start_date=START, catchup=False) as restart:
        VtmRunOperator(
            task_id="wait",
            vtm_task="step",
            fields={"wait_release": True},
            deferrable=mode == "deferred",
            **FAST,
        )
    globals()[f"restart_{mode}"] = restart

with DAG("sensor", schedule=None, start_date=START, catchup=False) as sensor:
    VtmRunSensor(
        task_id="wait",
        vtm_run_id="{{ dag_run.conf['vtm_run_id'] }}",
        vtm_conn_id="vtm_test",
        poke_interval=0.2,
        timeout=60,
    )
