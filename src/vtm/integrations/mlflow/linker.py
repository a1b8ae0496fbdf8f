"""How a VTM run is found in MLflow: the runs of its experiment tagged ``vtm.run_id``.

A trainer that tags its MLflow run ``vtm.run_id`` (as the sample trainers do) is linked even
if it never reports the MLflow run id itself (``VTM_RUN_META``). The settler
(``settler.py``) links finished runs this way; publish and the MLflow Ops page look runs up
the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vtm.integrations.mlflow.client import VTM_RUN_TAG, tracking_client
from vtm.settings import Settings
from vtm.store import RunData, experiment_of

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run


def quoted(value: str) -> str:
    """``value`` as a string literal of MLflow's filter syntax (ids come from trainers)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def tagged_runs(client: MlflowClient, run: RunData, limit: int = 1000) -> list[Run]:
    """The MLflow runs of ``run``'s experiment tagged with its id, earliest started first:
    a trainer's main run starts before any nested one."""
    experiment = client.get_experiment_by_name(experiment_of(run))
    if experiment is None:
        return []
    return list(
        client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`{VTM_RUN_TAG}` = {quoted(run.id)}",
            order_by=["attributes.start_time ASC"],
            max_results=limit,
        )
    )


def find_tagged_run(settings: Settings, run: RunData) -> str | None:
    """The id of the first MLflow run tagged with ``run``'s id in its experiment."""
    found = tagged_runs(tracking_client(settings), run, limit=1)
    return str(found[0].info.run_id) if found else None
