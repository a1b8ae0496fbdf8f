"""A pipeline's publish step publishes the model its own DAG run trained, and only when the
evaluation step finds it better than the champion (and above the step's minimum); otherwise
the step is skipped with the reason. Real Airflow (``dag.test()``), a live `vtm serve`, a
trainer logging a real model to VTM's MLflow registry."""

from __future__ import annotations

from typing import Any

from dag_runs import states, xcom
from vtm_server import VtmServer

STEPS = ("train", "evaluate", "publish")


def nightly(dags: dict[str, Any], score: float) -> Any:
    """One run of the `gated` pipeline whose evaluation measures ``score``."""
    return dags["gated"].test(run_conf={"score": score})


def champion(vtm: VtmServer) -> int:
    return int(vtm.get("/api/mlflow/registered-models/model")["aliases"]["champion"])


def test_only_a_model_that_beats_the_champion_is_published(
    dags: dict[str, Any], test_vtm: VtmServer
) -> None:
    first = nightly(dags, 0.8)
    assert states(first) == dict.fromkeys(STEPS, "success"), states(first)
    published = xcom(first, "publish")
    trained = xcom(first, "train")
    # This DAG run's training run, not the best of all time.
    assert published["vtmRunId"] == trained
    assert published["verdict"]["value"] == 0.8
    assert published["verdict"]["evaluationRunId"] == xcom(first, "evaluate")
    assert champion(test_vtm) == published["version"]

    # The next night's model scores lower: its publish step is skipped, the DAG run succeeds,
    # the champion stays, and the reason is in XCom for the Pipelines page.
    second = nightly(dags, 0.7)
    assert second.state == "success"
    assert states(second) == {"train": "success", "evaluate": "success", "publish": "skipped"}
    reason = xcom(second, "publish", "not_published")
    assert reason.startswith(f"evaluation run {xcom(second, 'evaluate')} measured score 0.7")
    assert "has 0.8: not better, not published" in reason
    assert xcom(second, "publish") is None
    assert champion(test_vtm) == published["version"]

    # Under the step's minMetric: skipped for that reason.
    low = nightly(dags, 0.3)
    assert states(low)["publish"] == "skipped"
    assert "below the step's minMetric 0.5" in xcom(low, "publish", "not_published")

    # A model that wins is published and becomes the champion.
    third = nightly(dags, 0.9)
    assert states(third)["publish"] == "success", states(third)
    won = xcom(third, "publish")
    assert won["vtmRunId"] == xcom(third, "train")
    assert won["verdict"]["championValue"] == 0.8
    assert champion(test_vtm) == won["version"] == published["version"] + 1
