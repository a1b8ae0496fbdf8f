"""Reading back what ``dag.test()`` did: task states, tries and XComs of a DAG run."""

from __future__ import annotations

from typing import Any


def states(dag_run: Any) -> dict[str, str | None]:
    """Each task's final state, by task id."""
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def tries(dag_run: Any) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in dag_run.get_task_instances()}


def xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    ti = dag_run.get_task_instance(task_id)
    assert ti is not None, f"no task {task_id} in {dag_run.run_id}"
    return ti.xcom_pull(task_ids=task_id, key=key)
