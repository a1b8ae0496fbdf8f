"""What ``dags_from_catalog`` builds from the catalog's ``pipelines`` section, read from the file
or from VTM's ``GET /api/pipelines``; the provider as Airflow sees it; the hook's connection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vtm_airflow import (
    VtmExecOperator,
    VtmPublishOperator,
    VtmReportOperator,
    VtmRunOperator,
    dags_from_catalog,
)
from vtm_airflow.dags import build_dag
from vtm_airflow.hooks.vtm import Endpoint, VtmHook
from vtm_server import REPO, VtmServer

SAMPLE = REPO / "examples" / "training_catalog.yaml"


def _shape(dag: Any) -> dict[str, Any]:
    """Everything about a DAG that the catalog decides."""
    return {
        "schedule": dag.schedule,
        "start_date": dag.start_date,
        "catchup": dag.catchup,
        "description": dag.description,
        "tasks": {
            t.task_id: {
                "type": type(t).__name__,
                "upstream": sorted(t.upstream_task_ids),
                "retries": t.retries,
                "retry_delay": t.retry_delay,
                "timeout": t.execution_timeout,
                "vtm_task": getattr(t, "vtm_task", None),
                "fields": getattr(t, "fields", None),
                "since": getattr(t, "since", None),
                "conn": t.vtm_conn_id,
                "queue": t.queue,
            }
            for t in dag.tasks
        },
    }


def test_the_nightly_pipeline_becomes_its_dag() -> None:
    dag = dags_from_catalog(SAMPLE)["digits-nightly"]
    tasks = dag.task_dict

    assert dag.schedule == "0 2 * * *"
    assert dag.catchup is False
    assert dag.start_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert isinstance(tasks["prepare"], VtmRunOperator)
    assert isinstance(tasks["publish"], VtmPublishOperator)
    assert tasks["prepare"].vtm_task == "digits-prepare"
    assert tasks["prepare"].fields == {"snapshot": "{{ ds }}"}
    assert {t: sorted(tasks[t].upstream_task_ids) for t in tasks} == {
        "prepare": [],
        "train": ["prepare"],
        "evaluate": ["train"],
        "publish": ["evaluate"],
    }
    # The pipeline's retries apply to every step, a step's own win.
    assert {t: tasks[t].retries for t in tasks} == {
        "prepare": 1,
        "train": 2,
        "evaluate": 1,
        "publish": 1,
    }
    assert all(t.retry_delay == timedelta(minutes=5) for t in dag.tasks)
    assert all(t.vtm_conn_id == "vtm_default" for t in dag.tasks)
    assert "fields" in VtmRunOperator.template_fields
    # The publish step publishes this DAG run's training run, judged by its evaluation.
    publish = tasks["publish"]
    assert publish.vtm_run_id == "{{ ti.xcom_pull(task_ids='train', key='vtm_run_id') }}"
    assert publish.evaluation_run_id == (
        "{{ ti.xcom_pull(task_ids='evaluate', key='vtm_run_id') }}"
    )
    assert (publish.gate, publish.min_metric, publish.against_champion) == (True, 0.9, True)
    assert {"vtm_run_id", "evaluation_run_id"} <= set(VtmPublishOperator.template_fields)


def test_publish_and_report_steps() -> None:
    dags = dags_from_catalog(SAMPLE, vtm_conn_id="elsewhere")
    publish = dags["digits-publish-nightly"].task_dict["publish"]
    report = dags["quality-weekly"].task_dict["report"]
    assert isinstance(publish, VtmPublishOperator)
    assert (publish.vtm_task, publish.since, publish.vtm_conn_id) == (
        "digits-cnn",
        "7d",
        "elsewhere",
    )
    assert isinstance(report, VtmReportOperator)
    assert (report.since, report.vtm_task, report.fmt) == ("7d", None, "html")
    assert dags["quality-weekly"].schedule == "0 6 * * 1"


def test_a_step_names_its_queue_and_may_train_on_the_worker_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = {
        "train": {
            "task": "digits-cnn",
            "mode": "exec",
            "queue": "gpu-a100",
            "fields": {"epochs": 3, "amp": True, "day": "{{ ds }}"},
        },
        "check": {"task": "digits-cnn", "queue": "gpu-a100", "dependsOn": ["train"]},
        "publish": {"publish": "digits-cnn", "dependsOn": ["check"]},
    }
    tasks = build_dag("on-gpus", {"steps": steps}).task_dict
    assert isinstance(tasks["train"], VtmExecOperator)
    assert isinstance(tasks["check"], VtmRunOperator)
    assert {t: tasks[t].queue for t in tasks} == {
        "train": "gpu-a100",
        "check": "gpu-a100",
        "publish": "default",  # Airflow's own default queue
    }

    # What the worker runs: `vtm exec` with the fields, the VTM and its token in the
    # environment alone.
    train = tasks["train"]
    assert isinstance(train, VtmExecOperator)
    monkeypatch.setenv("VTM_EXEC_COMMAND", "/opt/vtm/bin/vtm")
    assert train.command() == [
        "/opt/vtm/bin/vtm",
        "exec",
        "digits-cnn",
        *("--set", "epochs=3", "--set", "amp=true", "--set", "day={{ ds }}"),
    ]
    conn = {"conn_type": "vtm", "host": "vtm.lan", "port": 8000, "password": "s3cret"}
    monkeypatch.setenv("AIRFLOW_CONN_VTM_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("VTM_TOKEN", "a-token-of-the-worker-s-own")

    class _Ti:
        hostname = "gpu-worker-3"

    env = train.environment({"ti": _Ti()})
    assert (env["VTM_URL"], env["VTM_TOKEN"]) == ("http://vtm.lan:8000", "s3cret")
    assert (env["VTM_AIRFLOW_QUEUE"], env["VTM_AIRFLOW_HOSTNAME"]) == ("gpu-a100", "gpu-worker-3")
    assert "s3cret" not in " ".join(train.command())


def test_the_dags_from_vtms_api_equal_those_from_the_file(sample_vtm: VtmServer) -> None:
    from_file = dags_from_catalog(SAMPLE)
    from_api = dags_from_catalog(sample_vtm.url)
    assert set(from_api) == set(from_file)
    for dag_id, dag in from_file.items():
        assert _shape(from_api[dag_id]) == _shape(dag), dag_id


def test_airflow_knows_the_provider_and_its_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    info = ProvidersManager().providers["vtm-airflow"]
    assert info.data["connection-types"] == [
        {"connection-type": "vtm", "hook-class-name": "vtm_airflow.hooks.vtm.VtmHook"}
    ]
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for module in info.data[kind][0]["python-modules"]:
            __import__(module)


class _Conn:
    def __init__(self, **values: Any) -> None:
        self.host, self.port = values.get("host"), values.get("port")
        self.schema, self.password = values.get("schema"), values.get("password")


def test_the_connection_gives_vtms_address_and_token() -> None:
    plain = VtmHook.endpoint_of(_Conn(host="vtm.lan", port=8000))
    assert plain.base_url == "http://vtm.lan:8000"
    assert plain.token is None
    tls = VtmHook.endpoint_of(_Conn(host="vtm.example", schema="https", password="s3cret"))
    assert tls.base_url == "https://vtm.example"
    assert tls.token == "s3cret"
    assert "s3cret" not in repr(tls)
    assert VtmHook.endpoint_of(_Conn(host="http://10.0.0.5:8000/")).base_url == (
        "http://10.0.0.5:8000"
    )
    assert isinstance(plain, Endpoint)
