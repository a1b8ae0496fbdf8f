"""The sample catalog's pilot pipelines, as DAGs built by ``dags_from_catalog``, run by real
Airflow (``dag.test()``) against a live `vtm serve` with the real example trainers (torch on
the CPU, MLflow in VTM's home)."""

from __future__ import annotations

from typing import Any

import pytest

from dag_runs import states, xcom
from vtm_server import VtmServer

PILOTS = ("digits-nightly", "digits-publish-nightly", "quality-weekly")

# Real training on two shared cores; a failed step would also wait out the 5-minute retry delay.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def nightly(dags: dict[str, Any], sample_vtm: VtmServer) -> Any:
    """One run of the nightly retrain: prepare → train → evaluate → publish."""
    return dags["digits-nightly"].test()


def test_the_catalog_gives_one_dag_per_pilot_pipeline(dags: dict[str, Any]) -> None:
    assert set(PILOTS) <= set(dags)


def test_nightly_retrain_succeeds_step_by_step(nightly: Any, sample_vtm: VtmServer) -> None:
    assert nightly.state == "success", states(nightly)
    assert states(nightly) == dict.fromkeys(("prepare", "train", "evaluate", "publish"), "success")

    found = sample_vtm.runs_of("digits-nightly", nightly.run_id)
    runs = {r["origin"]["airflow"]["taskId"]: r for r in found}
    assert len(found) == len(runs)  # one try each
    assert set(runs) == {"prepare", "train", "evaluate"}  # publish calls VTM's publish API
    ds = nightly.logical_date.strftime("%Y-%m-%d")
    for task_id, run in runs.items():
        assert run["status"] == "completed", run
        assert run["origin"]["kind"] == "airflow"
        context = run["origin"]["airflow"]
        assert context["dagId"] == "digits-nightly"
        assert context["runId"] == nightly.run_id
        assert context["tryNumber"] == 1
        assert context["logicalDate"].startswith(ds)
        assert run["origin"]["previousTryRunId"] is None
        # The detail page reads the same context back from VTM's store.
        assert sample_vtm.run(run["id"])["origin"] == run["origin"]
        assert xcom(nightly, task_id) == xcom(nightly, task_id, "vtm_run_id") == run["id"]

    # {{ ds }} reached the trainers: the snapshot prepared and the one trained on.
    assert runs["prepare"]["fields"]["snapshot"] == ds
    assert runs["prepare"]["meta"]["snapshot"] == ds
    assert runs["train"]["fields"]["snapshot"] == ds
    assert runs["train"]["fields"]["epochs"] == 3
    assert runs["train"]["progress"]["epoch"] == 3

    # evaluate measured the model train logged: the MLflow run id went through XCom.
    trained = runs["train"]["mlflowRunId"]
    assert trained and xcom(nightly, "train", "mlflow_run_id") == trained
    assert xcom(nightly, "train", "progress")["epoch"] == 3
    assert runs["evaluate"]["fields"]["mlflow_run_id"] == trained


def test_nightly_publish_registered_the_trained_model(nightly: Any, sample_vtm: VtmServer) -> None:
    published = xcom(nightly, "publish")
    train_run = xcom(nightly, "train")
    assert published["task"] == "digits-cnn"
    assert published["vtmRunId"] == train_run
    assert published["mlflowRunId"] == xcom(nightly, "train", "mlflow_run_id")

    # The registry of VTM's MLflow store holds that version under the alias.
    model = sample_vtm.get(f"/api/mlflow/registered-models/{published['registeredModel']}")
    assert model["aliases"][published["alias"]] == str(published["version"])
    version = next(v for v in model["versions"] if v["version"] == str(published["version"]))
    assert version["runId"] == published["mlflowRunId"]


def test_nightly_best_model_publish_after_the_retrain(
    dags: dict[str, Any], nightly: Any, sample_vtm: VtmServer
) -> None:
    dag_run = dags["digits-publish-nightly"].test()
    assert dag_run.state == "success", states(dag_run)
    result = xcom(dag_run, "publish")
    first = xcom(nightly, "publish")
    # The week's best run is the one the retrain published: nothing new to register.
    assert result["vtmRunId"] == first["vtmRunId"]
    assert result["version"] == first["version"]
    assert result["alreadyPublished"] is True


def test_weekly_quality_report(dags: dict[str, Any], nightly: Any, sample_vtm: VtmServer) -> None:
    dag_run = dags["quality-weekly"].test()
    assert dag_run.state == "success", states(dag_run)
    report = xcom(dag_run, "report")
    assert report["since"] == "7d"
    tasks = {t["taskId"]: t for t in report["tasks"]}
    for task_id in ("digits-prepare", "digits-cnn", "digits-evaluate"):
        assert tasks[task_id]["outcomes"]["completed"] >= 1, tasks[task_id]
