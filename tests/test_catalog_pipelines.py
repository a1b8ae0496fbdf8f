"""The catalog's pipelines: a valid section loads; each mistake names its line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_catalog_loader import BASE, assert_spot, error_of, write
from vtm.catalog import load_catalog

# BASE's task t1 has fields epochs (int) and lr; the pipeline starts on line 12.
PIPELINE = """\
pipelines:
  nightly:
    schedule: "0 2 * * *"
    retries: 1
    retryDelay: 5m
    steps:
      train: {task: t1, fields: {epochs: 3, lr: "{{ params.lr }}"}, retries: 2}
      publish: {publish: {task: t1, run: train}, dependsOn: [train]}
      report: {report: {since: 7d}, dependsOn: [publish]}
"""


def test_a_pipeline_loads_with_its_steps(tmp_path: Path) -> None:
    loaded = load_catalog(write(tmp_path, BASE + PIPELINE))
    nightly = loaded.catalog.pipelines["nightly"]
    assert nightly.schedule == "0 2 * * *"
    assert (nightly.retries, nightly.retry_delay, nightly.catchup) == (1, 300.0, False)
    assert [s.kind for s in nightly.steps.values()] == ["task", "publish", "report"]
    assert nightly.steps["train"].fields == {"epochs": 3, "lr": "{{ params.lr }}"}
    assert nightly.steps["train"].retries == 2
    assert nightly.steps["publish"].publish is not None
    assert nightly.steps["publish"].publish.task == "t1"
    assert nightly.steps["publish"].publish.run == "train"
    assert nightly.steps["publish"].publish.against_champion is True
    assert nightly.steps["report"].depends_on == ["publish"]
    # Where each runs: on VTM's executors, through Airflow's default queue, unless it says.
    assert {(s.mode, s.queue) for s in nightly.steps.values()} == {("api", None)}


def test_a_step_names_its_airflow_queue_and_trains_on_the_worker(tmp_path: Path) -> None:
    text = PIPELINE.replace("retries: 2}", "retries: 2, queue: gpu-a100, mode: exec}")
    train = load_catalog(write(tmp_path, BASE + text)).catalog.pipelines["nightly"].steps["train"]
    assert (train.queue, train.mode) == ("gpu-a100", "exec")


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"),
    [
        (
            "{task: t1, fields",
            "{task: nope, fields",
            18,
            "pipelines.nightly.steps.train.task",
            "unknown task 'nope'",
        ),
        (
            "{task: t1, run: train}",
            "{task: t9}",
            19,
            "pipelines.nightly.steps.publish.publish.task",
            "unknown task 't9'",
        ),
        (
            "{task: t1, run: train}",
            "t1",
            19,
            "pipelines.nightly.steps.publish.publish",
            "step 'train' of this pipeline trains 't1': name it with `run: train`",
        ),
        (
            "run: train}",
            "run: report}",
            19,
            "pipelines.nightly.steps.publish.publish.run",
            "'report' is not a step of this pipeline that runs a task",
        ),
        (
            "run: train}, dependsOn: [train]}",
            "run: train}}",
            19,
            "pipelines.nightly.steps.publish.publish.run",
            "this step must depend on 'train' (dependsOn), directly or not",
        ),
        (
            "run: train}",
            "run: train, evaluation: train}",
            19,
            "pipelines.nightly.steps.publish.publish.evaluation",
            "step 'train' must depend on 'train': it judges that run's model",
        ),
        (
            "dependsOn: [publish]",
            "dependsOn: [pubish]",
            20,
            "pipelines.nightly.steps.report.dependsOn.0",
            "unknown step 'pubish'",
        ),
        (
            "epochs: 3,",
            "epochs: three,",
            18,
            "pipelines.nightly.steps.train.fields.epochs",
            "three",
        ),
        (
            "epochs: 3,",
            "epoch: 3,",
            18,
            "pipelines.nightly.steps.train.fields.epoch",
            "task 't1' has no field 'epoch'",
        ),
        (
            '"0 2 * * *"',
            '"0 25 * * *"',
            14,
            "pipelines.nightly.schedule",
            "is not a cron expression",
        ),
        (
            "retryDelay: 5m",
            "retryDelay: soon",
            16,
            "pipelines.nightly.retryDelay",
            "not a duration",
        ),
        (
            "{publish: {task: t1, run: train}, dependsOn: [train]}",
            "{publish: t1, task: t1}",
            19,
            "pipelines.nightly.steps.publish",
            "exactly one of: task, publish, report",
        ),
        (
            "retries: 2}",
            "retries: 2, queue: 'gpu a100'}",
            18,
            "pipelines.nightly.steps.train.queue",
            "'gpu a100' is not a queue name",
        ),
        (
            "retries: 2}",
            "retries: 2, mode: worker}",
            18,
            "pipelines.nightly.steps.train.mode",
            "'api' or 'exec'",
        ),
        (
            "{report: {since: 7d}, dependsOn",
            "{report: {since: 7d}, mode: exec, dependsOn",
            20,
            "pipelines.nightly.steps.report",
            "mode: exec belongs to a task step",
        ),
    ],
)
def test_a_pipeline_mistake_names_its_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, key: str, message: str
) -> None:
    text = BASE + PIPELINE
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    err = error_of(path)
    assert_spot(err, path, line, key)
    assert message in str(err)


def test_steps_that_depend_on_each_other_are_a_cycle(tmp_path: Path) -> None:
    text = (BASE + PIPELINE).replace(
        '{task: t1, fields: {epochs: 3, lr: "{{ params.lr }}"}, retries: 2}',
        "{task: t1, dependsOn: [report]}",
    )
    err = error_of(write(tmp_path, text))
    assert "steps depend on each other" in str(err)
    assert "train" in str(err) and "report" in str(err) and "publish" in str(err)


def test_a_floor_needs_the_tasks_primary_metric(tmp_path: Path) -> None:
    text = BASE.replace(
        "      target: train.py\n", "      target: train.py\n    publish: {minMetric: 0.9}\n"
    )
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, 12, "tasks.t1.publish.minMetric")
    assert "a floor needs a metric: base task type 'cls' declares no primaryMetric" in str(err)
    with_metric = text.replace("  cls:\n", "  cls:\n    primaryMetric: {name: acc}\n")
    loaded = load_catalog(write(tmp_path, with_metric))
    assert loaded.catalog.tasks["t1"].publish.min_metric == 0.9
