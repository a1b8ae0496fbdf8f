"""The catalog's pipelines, and what Airflow made of them: latest DAG runs, task states, and
the VTM run behind each task."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from vtm.api.deps import CatalogDep, RuntimeDep
from vtm.api.pipeline_schemas import (
    PipelineDagRun,
    PipelineOut,
    PipelinesResponse,
    PipelinesStatusResponse,
    PipelineStatus,
    PipelineTaskState,
)
from vtm.errors import UpstreamError
from vtm.integrations.airflow import DagRunState, client_for
from vtm.store import RunData

router = APIRouter(prefix="/api/pipelines", tags=["pipelines"])


@router.get("")
def get_pipelines(holder: CatalogDep) -> PipelinesResponse:
    """The pipelines section as VTM validated it; `vtm_airflow.dags_from_catalog(URL)` reads it."""
    loaded = holder.current
    if loaded is None:
        return PipelinesResponse(pipelines={}, error=str(holder.error))
    now = datetime.now(UTC)
    return PipelinesResponse(
        pipelines={pid: PipelineOut.of(p, now) for pid, p in loaded.catalog.pipelines.items()}
    )


def _dag_run(run: DagRunState, vtm_runs: dict[tuple[str, str], RunData]) -> PipelineDagRun:
    return PipelineDagRun(
        run_id=run.run_id,
        logical_date=run.logical_date,
        state=run.state,
        run_type=run.run_type,
        start_date=run.start_date,
        end_date=run.end_date,
        tasks=[
            PipelineTaskState(
                task_id=t.task_id,
                state=t.state,
                try_number=t.try_number,
                start_date=t.start_date,
                end_date=t.end_date,
                vtm_run_id=(vtm.id if (vtm := vtm_runs.get((run.run_id, t.task_id))) else None),
                note=t.note,
                queue=t.queue,
                hostname=t.hostname,
            )
            for t in run.tasks
        ],
    )


@router.get("/status")
def get_pipelines_status(runtime: RuntimeDep, limit: int = 5) -> PipelinesStatusResponse:
    """Each pipeline's latest Airflow DAG runs (through Airflow's REST API v2)."""
    settings = runtime.settings
    loaded = runtime.catalog.current
    ids = list(loaded.catalog.pipelines) if loaded else []
    configured = bool(
        settings.airflow_url and settings.airflow_username and settings.airflow_password
    )
    empty = [PipelineStatus(pipeline_id=pid, in_airflow=False, dag_runs=[]) for pid in ids]
    if not configured:
        return PipelinesStatusResponse(
            airflow_url=settings.airflow_url, configured=False, pipelines=empty
        )
    client = client_for(settings)
    try:
        statuses = []
        for pid in ids:
            steps = loaded.catalog.pipelines[pid].steps if loaded else {}
            publish_steps = frozenset(s for s, step in steps.items() if step.publish is not None)
            runs = client.latest_runs(
                pid, limit=max(1, min(limit, 25)), publish_steps=publish_steps
            )
            repo = runtime.service.repo
            vtm_runs = repo.airflow_runs(pid, [r.run_id for r in runs]) if runs else {}
            statuses.append(
                PipelineStatus(
                    pipeline_id=pid,
                    in_airflow=runs is not None,
                    dag_runs=[_dag_run(r, vtm_runs) for r in runs or []],
                )
            )
    except UpstreamError as exc:
        return PipelinesStatusResponse(
            airflow_url=settings.airflow_url, configured=True, error=str(exc), pipelines=empty
        )
    return PipelinesStatusResponse(
        airflow_url=settings.airflow_url, configured=True, pipelines=statuses
    )
