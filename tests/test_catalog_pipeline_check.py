"""check_pipelines: steps that load but that VTM would refuse every time they run."""

from __future__ import annotations

from pathlib import Path

from vtm.catalog import load_catalog
from vtm.catalog.pipeline_check import PipelineProblem, check_pipelines

CATALOG = """\
version: 1
baseTaskTypes:
  cls:
    primaryMetric: {name: val_accuracy, goal: max}
    fields:
      epochs: {type: int, default: 1}
  prep:
    fields:
      snapshot: {type: string, required: true}
      root: {type: string, required: true}
tasks:
  train:
    baseTaskType: cls
    runner: {target: train.py}
  prepare:
    baseTaskType: prep
    runner: {target: train.py}
    defaults: {root: /data}
  unranked:
    baseTaskType: prep
    runner: {target: train.py}
pipelines:
  p:
    steps:
"""


def problems(tmp_path: Path, steps: str) -> list[PipelineProblem]:
    (tmp_path / "train.py").write_text("print('hi')\n")
    path = tmp_path / "training_catalog.yaml"
    path.write_text(CATALOG + steps)
    return check_pipelines(load_catalog(path))


def test_steps_that_can_run_pass(tmp_path: Path) -> None:
    steps = """\
      prepare: {task: prepare, fields: {snapshot: "{{ ds }}"}}
      publish: {publish: train}
      other: {publish: {task: train, metric: val_loss, goal: min}}
      templated: {publish: {task: unranked, metric: "{{ params.metric }}", goal: max}}
"""
    # The task's defaults give `root`; a template gives `snapshot`: only Airflow can render it.
    assert problems(tmp_path, steps) == []


def test_a_required_field_the_step_leaves_unset(tmp_path: Path) -> None:
    found = problems(tmp_path, "      prepare: {task: prepare}\n")
    assert found == [
        PipelineProblem(
            pipeline_id="p",
            step_id="prepare",
            line=25,
            key="pipelines.p.steps.prepare.task",
            message="task 'prepare' requires field 'snapshot' and the step does not set it: "
            "VTM would refuse every run of this step",
        )
    ]


def test_a_publish_step_without_a_metric_or_a_goal(tmp_path: Path) -> None:
    steps = """\
      a: {publish: unranked}
      b: {publish: {task: train, metric: val_loss}}
"""
    found = problems(tmp_path, steps)
    assert [(p.step_id, p.line, p.key) for p in found] == [
        ("a", 25, "pipelines.p.steps.a.publish"),
        ("b", 26, "pipelines.p.steps.b.publish"),
    ]
    assert "task 'unranked' has no primaryMetric: give the step a metric" in found[0].message
    assert "'val_loss' is not task 'train''s primary metric" in found[1].message
    assert "give the step a goal (max or min)" in found[1].message
