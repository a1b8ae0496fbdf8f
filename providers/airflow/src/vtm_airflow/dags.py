"""Airflow DAGs built from the ``pipelines`` section of VTM's catalog: one DAG per pipeline,
one operator per step, so the catalog stays the single source of truth.

In a DAG file::

    from vtm_airflow import dags_from_catalog
    globals().update(dags_from_catalog("/srv/vtm/training_catalog.yaml"))

``source`` is the catalog file, or VTM's URL (then ``GET /api/pipelines`` gives the pipelines
the server validated). VTM validates the section (``vtm catalog check``); this module trusts it.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from airflow.sdk import DAG, BaseOperator
from vtm_client import VtmClient

from vtm_airflow.operators.exec import VtmExecOperator
from vtm_airflow.operators.vtm import VtmPublishOperator, VtmReportOperator, VtmRunOperator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")


def _seconds(value: float | int | str) -> float:
    """Same syntax as the catalog's durations: 90, '90s', '30m', '2h', '1d'."""
    if isinstance(value, int | float):
        return float(value)
    m = _DURATION.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a duration such as '30m'")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2) or "s"]


def load_pipelines(source: str | Path, token: str | None = None) -> dict[str, dict[str, Any]]:
    """The ``pipelines`` mapping of a catalog file, or of the VTM server at URL ``source``."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        with VtmClient(text, token or os.environ.get("VTM_TOKEN"), timeout=30) as vtm:
            return dict(vtm.pipelines()["pipelines"])
    document = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
    return dict(document.get("pipelines") or {})


def _start_date(value: Any) -> datetime:
    day = value if isinstance(value, date) else date.fromisoformat(str(value or "2026-01-01"))
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _step_args(step: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if step.get("retries") is not None:
        args["retries"] = int(step["retries"])
    if step.get("retryDelay") is not None:
        args["retry_delay"] = timedelta(seconds=_seconds(step["retryDelay"]))
    if step.get("timeout") is not None:
        args["execution_timeout"] = timedelta(seconds=_seconds(step["timeout"]))
    if step.get("queue"):
        args["queue"] = str(step["queue"])
    return args


def _run_of(step_id: str | None) -> str | None:
    if step_id is None:
        return None
    return "{{ ti.xcom_pull(task_ids='" + step_id + "', key='vtm_run_id') }}"


def _operator(
    step_id: str, step: dict[str, Any], vtm_conn_id: str, deferrable: bool
) -> BaseOperator:
    common = {"task_id": step_id, "vtm_conn_id": vtm_conn_id, **_step_args(step)}
    if step.get("task") and step.get("mode") == "exec":
        return VtmExecOperator(
            vtm_task=step["task"], fields=dict(step.get("fields") or {}), **common
        )
    if step.get("task"):
        return VtmRunOperator(
            vtm_task=step["task"],
            fields=dict(step.get("fields") or {}),
            deferrable=deferrable,
            **common,
        )
    if step.get("publish"):
        publish = step["publish"]
        options = {"task": publish} if isinstance(publish, str) else dict(publish)
        return VtmPublishOperator(
            vtm_task=options["task"],
            # The runs of this DAG run's steps, by the XCom their operators push.
            vtm_run_id=_run_of(options.get("run")),
            evaluation_run_id=_run_of(options.get("evaluation")),
            metric=options.get("metric"),
            goal=options.get("goal"),
            since=options.get("since"),
            alias=options.get("alias"),
            gate=True,
            min_metric=None if options.get("minMetric") is None else float(options["minMetric"]),
            against_champion=bool(options.get("againstChampion", True)),
            **common,
        )
    report = dict(step.get("report") or {})
    return VtmReportOperator(
        since=report.get("since", "7d"),
        vtm_task=report.get("task"),
        fmt=report.get("format", "html"),
        **common,
    )


def build_dag(
    pipeline_id: str,
    pipeline: dict[str, Any],
    vtm_conn_id: str = "vtm_default",
    deferrable: bool = False,
) -> DAG:
    """The DAG of one pipeline."""
    dag = DAG(
        dag_id=pipeline_id,
        description=pipeline.get("description"),
        schedule=pipeline.get("schedule"),
        start_date=_start_date(pipeline.get("startDate")),
        catchup=bool(pipeline.get("catchup", False)),
        default_args={
            "retries": int(pipeline.get("retries", 0)),
            "retry_delay": timedelta(seconds=_seconds(pipeline.get("retryDelay", 300))),
        },
        tags=["vtm"],
    )
    steps: dict[str, dict[str, Any]] = pipeline["steps"]
    with dag:
        operators = {
            step_id: _operator(step_id, step, vtm_conn_id, deferrable)
            for step_id, step in steps.items()
        }
        for step_id, step in steps.items():
            for upstream in step.get("dependsOn") or []:
                operators[upstream] >> operators[step_id]
    return dag


def dags_from_catalog(
    source: str | Path,
    vtm_conn_id: str = "vtm_default",
    deferrable: bool = False,
    token: str | None = None,
) -> dict[str, DAG]:
    """One DAG per pipeline of the catalog at ``source`` (a file path or VTM's URL)."""
    return {
        pipeline_id: build_dag(pipeline_id, pipeline, vtm_conn_id, deferrable)
        for pipeline_id, pipeline in load_pipelines(source, token).items()
    }
