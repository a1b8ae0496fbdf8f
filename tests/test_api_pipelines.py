"""The pipelines endpoints without a running Airflow: the catalog's pipelines typed for the UI,
and the status saying plainly when Airflow is not configured or cannot be reached.
(With a real Airflow: tests/test_airflow_standalone.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_support import FAILING, GATED, PIPELINE, SCHEDULED, write_catalog
from support import Server, free_port


@pytest.fixture
def pipelines_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    env: dict[str, str] = getattr(request, "param", {})
    server = Server(
        tmp_path / "home",
        f"sqlite:///{tmp_path / 'vtm.db'}",
        catalog=write_catalog(tmp_path / "catalog"),
        **env,
    ).start()
    yield server
    server.stop()
    server.client.close()


def test_the_pipelines_come_typed_with_each_steps_kind(pipelines_server: Server) -> None:
    body = pipelines_server.client.get("/api/pipelines").json()
    assert body["error"] is None
    assert list(body["pipelines"]) == [PIPELINE, FAILING, SCHEDULED, GATED]
    pipeline = body["pipelines"][PIPELINE]
    assert (pipeline["schedule"], pipeline["startDate"], pipeline["catchup"]) == (
        None,
        "2026-01-01",
        False,
    )
    assert pipeline["nextRunAt"] is None  # on demand: no next run to announce
    train = pipeline["steps"]["train"]
    assert train["kind"] == "task" and train["task"] == "scripted"
    assert train["dependsOn"] == ["prepare"]
    assert (train["retries"], train["retryDelay"]) == (1, 1.0)
    assert train["fields"]["exit_code"] == "{{ 3 if ti.try_number == 1 else 0 }}"
    assert pipeline["steps"]["prepare"]["fields"] == {"epochs": 1, "text": "{{ ds }}"}


def test_without_airflow_settings_the_status_says_it_is_not_configured(
    pipelines_server: Server,
) -> None:
    body = pipelines_server.client.get("/api/pipelines/status").json()
    assert body == {
        "airflowUrl": None,
        "configured": False,
        "error": None,
        "pipelines": [
            {"pipelineId": PIPELINE, "inAirflow": False, "dagRuns": []},
            {"pipelineId": FAILING, "inAirflow": False, "dagRuns": []},
            {"pipelineId": SCHEDULED, "inAirflow": False, "dagRuns": []},
            {"pipelineId": GATED, "inAirflow": False, "dagRuns": []},
        ],
    }
    assert pipelines_server.client.get("/api/config").json()["airflowUrl"] is None


@pytest.mark.parametrize(
    "pipelines_server", [{"VTM_AIRFLOW_URL": "http://127.0.0.1:9"}], indirect=True
)
def test_an_airflow_url_without_credentials_is_not_configured(pipelines_server: Server) -> None:
    body = pipelines_server.client.get("/api/pipelines/status").json()
    assert (body["configured"], body["airflowUrl"], body["error"]) == (
        False,
        "http://127.0.0.1:9",
        None,
    )
    assert pipelines_server.client.get("/api/config").json()["airflowUrl"] == "http://127.0.0.1:9"


CLOSED = f"http://127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    "pipelines_server",
    [
        {
            "VTM_AIRFLOW_URL": CLOSED,
            "VTM_AIRFLOW_USERNAME": "admin",
            "VTM_AIRFLOW_PASSWORD": "s3cret-never-shown",
        }
    ],
    indirect=True,
)
def test_an_unreachable_airflow_is_reported_and_the_pipelines_still_listed(
    pipelines_server: Server,
) -> None:
    response = pipelines_server.client.get("/api/pipelines/status")
    assert response.status_code == 200
    body = response.json()
    assert body["configured"] is True
    assert body["error"].startswith(f"Airflow at {CLOSED} cannot be reached")
    assert [p["pipelineId"] for p in body["pipelines"]] == [PIPELINE, FAILING, SCHEDULED, GATED]
    assert "s3cret-never-shown" not in response.text
    assert "s3cret-never-shown" not in pipelines_server.log()
