"""MLflow Ops: experiments, runs, metric history, artifacts, comparison, the model registry.

Read-only, and all through VTM's MLflow client on the server: the browser never talks to
MLflow. The client blocks, so every route is a plain ``def`` (FastAPI's thread pool).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from vtm.api.deps import RuntimeDep, ServiceDep
from vtm.api.mlflow_schemas import (
    ArtifactEntry,
    ArtifactListing,
    ExperimentList,
    ExperimentOut,
    LinkedMlflowRun,
    LoggedModelOut,
    MetricHistory,
    MlflowRunDetail,
    MlflowRunList,
    MlflowRunOut,
    MlflowStatusOut,
    RegisteredModelList,
    RegisteredModelOut,
    RunComparison,
)
from vtm.api.schemas import ErrorBody
from vtm.errors import NotFound, UpstreamError
from vtm.integrations.mlflow import ops
from vtm.settings import Settings

router = APIRouter(prefix="/api/mlflow", tags=["mlflow"])

_EPOCH = datetime.fromtimestamp(0, UTC)

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such experiment, run, model, metric or file"},
    422: {"model": ErrorBody, "description": "Bad parameters, e.g. a path out of the artifacts"},
    502: {"model": ErrorBody, "description": "MLflow failed or cannot be reached"},
}
DOWNLOAD: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"},
    **ERRORS,
}

# A request waits at most this long for the server to finish creating the embedded store.
STORE_WAIT_SECONDS = 60.0


def ready_settings(runtime: RuntimeDep) -> Settings:
    """The settings, once the embedded store exists: the server creates its tables at start,
    and a second process or thread creating them at the same moment breaks the store."""
    store = runtime.mlflow_store
    if not store.wait(STORE_WAIT_SECONDS):
        why = store.error or f"still being created after {STORE_WAIT_SECONDS:.0f} s"
        raise UpstreamError(f"the MLflow store is not usable: {why}")
    return runtime.settings


# A plain def: waiting blocks, so FastAPI runs it in the thread pool like the routes.
SettingsDep = Annotated[Settings, Depends(ready_settings)]

PathQuery = Annotated[
    str, Query(description="Relative path inside the artifacts; '' is the root. No '..'.")
]


@router.get("/status")
def get_status(runtime: RuntimeDep) -> MlflowStatusOut:
    """Where the tracking store is (password hidden), its UI, and whether it answers now."""
    store = runtime.mlflow_store
    if not store.wait(0):
        # Not touched while the server creates it (see ready_settings): say so instead. A
        # store nobody needed yet is being created now: wait(0) began it.
        why = store.error or ops.CREATING
        return MlflowStatusOut.of(
            ops.status(runtime.settings, not_ready=why, ui_url=runtime.side_servers.mlflow_ui_url)
        )
    return MlflowStatusOut.of(
        ops.status(runtime.settings, ui_url=runtime.side_servers.mlflow_ui_url)
    )


@router.get("/experiments", responses=ERRORS)
def list_experiments(settings: SettingsDep) -> ExperimentList:
    """Active experiments with their latest run's time, most recently active first."""
    found = ops.experiments(settings)
    latest = ops.latest_run_times(settings, [e.experiment_id for e in found])
    out = [ExperimentOut.of(e, latest.get(e.experiment_id)) for e in found]
    # Stable: experiments without runs keep MLflow's order (its last update) among themselves.
    out.sort(key=lambda e: e.latest_run_time or e.last_update_time or _EPOCH, reverse=True)
    return ExperimentList(experiments=out)


@router.get("/experiments/{experiment_id}", responses=ERRORS)
def get_experiment(experiment_id: str, settings: SettingsDep) -> ExperimentOut:
    found = ops.experiment(settings, experiment_id)
    latest = ops.latest_run_times(settings, [found.experiment_id])
    return ExperimentOut.of(found, latest.get(found.experiment_id))


@router.get("/experiments/{experiment_id}/runs", responses=ERRORS)
def list_runs(
    experiment_id: str,
    settings: SettingsDep,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=ops.MAX_RUNS)] = 100,
    page_token: Annotated[
        str | None, Query(alias="pageToken", description="nextPageToken of the previous page")
    ] = None,
) -> MlflowRunList:
    """The experiment's runs with params, latest metrics and tags, newest first."""
    page = ops.runs(settings, experiment_id, max_results, page_token or None)
    if page_token or not page.runs:
        latest = ops.latest_run_times(settings, [page.experiment.experiment_id]).get(
            page.experiment.experiment_id
        )
    else:
        latest = ops.run_activity_ms(page.runs[0])  # the first page starts with the newest
    return MlflowRunList(
        experiment=ExperimentOut.of(page.experiment, latest),
        runs=[MlflowRunOut.of(r) for r in page.runs],
        next_page_token=page.next_page_token,
    )


@router.get("/runs/{run_id}", responses=ERRORS)
def get_run(run_id: str, settings: SettingsDep) -> MlflowRunDetail:
    """One run with the models it logged."""
    found = ops.run(settings, run_id)
    experiment = ops.experiment(settings, found.info.experiment_id)
    models = ops.logged_models(settings, found)
    return MlflowRunDetail(
        run=MlflowRunOut.of(found),
        experiment_name=experiment.name,
        logged_models=[LoggedModelOut.of(m) for m in models],
    )


@router.get("/runs/{run_id}/metric-history", responses=ERRORS)
def get_metric_history(
    run_id: str,
    settings: SettingsDep,
    key: Annotated[str, Query(min_length=1, description="The metric's name ('/' allowed)")],
) -> MetricHistory:
    """Every logged value of one metric, by step."""
    return MetricHistory.of(run_id, key, ops.metric_history(settings, run_id, key))


@router.get("/runs/{run_id}/artifacts", responses=ERRORS)
def list_run_artifacts(run_id: str, settings: SettingsDep, path: PathQuery = "") -> ArtifactListing:
    """One folder of the run's artifacts."""
    entries = ops.run_artifacts(settings, run_id, path)
    return ArtifactListing(
        path=ops.artifact_path(path), entries=[ArtifactEntry.of(e) for e in entries]
    )


def _send(file: ops.ArtifactFile) -> FileResponse:
    # FileResponse streams in chunks and names the file in Content-Disposition (RFC 5987
    # for non-ASCII names); a copy fetched from a remote store is removed once sent.
    return FileResponse(
        file.local,
        filename=file.name,
        media_type="application/octet-stream",
        background=BackgroundTask(file.cleanup),
    )


@router.get("/runs/{run_id}/artifacts/download", response_class=FileResponse, responses=DOWNLOAD)
def download_run_artifact(run_id: str, settings: SettingsDep, path: PathQuery) -> FileResponse:
    """One file of the run's artifacts, as an attachment."""
    return _send(ops.run_artifact_file(settings, run_id, path))


@router.get("/logged-models/{model_id}", responses=ERRORS)
def get_logged_model(model_id: str, settings: SettingsDep) -> LoggedModelOut:
    return LoggedModelOut.of(ops.logged_model(settings, model_id))


@router.get("/logged-models/{model_id}/artifacts", responses=ERRORS)
def list_model_artifacts(
    model_id: str, settings: SettingsDep, path: PathQuery = ""
) -> ArtifactListing:
    """One folder of a logged model's files (MLmodel, weights, environment)."""
    entries = ops.model_artifacts(settings, model_id, path)
    return ArtifactListing(
        path=ops.artifact_path(path), entries=[ArtifactEntry.of(e) for e in entries]
    )


@router.get(
    "/logged-models/{model_id}/artifacts/download",
    response_class=FileResponse,
    responses=DOWNLOAD,
)
def download_model_artifact(model_id: str, settings: SettingsDep, path: PathQuery) -> FileResponse:
    """One file of a logged model, as an attachment."""
    return _send(ops.model_artifact_file(settings, model_id, path))


@router.get("/compare", responses=ERRORS)
def compare_runs(
    settings: SettingsDep,
    run_ids: Annotated[
        list[str], Query(alias="runId", description=f"2 to {ops.MAX_COMPARE} MLflow run ids")
    ],
) -> RunComparison:
    """Params and latest metrics side by side; `differs` marks rows where the runs disagree."""
    runs, params, metrics = ops.compare(settings, run_ids)
    return RunComparison.of(runs, params, metrics)


@router.get("/registered-models", responses=ERRORS)
def list_registered_models(
    settings: SettingsDep,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=1000)] = 100,
) -> RegisteredModelList:
    """Registered models by name, each with its versions (newest first) and aliases."""
    found = ops.registered_models(settings, max_results)
    return RegisteredModelList(models=[RegisteredModelOut.of(m) for m in found])


@router.get("/registered-models/{name:path}", responses=ERRORS)
def get_registered_model(name: str, settings: SettingsDep) -> RegisteredModelOut:
    return RegisteredModelOut.of(ops.registered_model(settings, name))


@router.get("/vtm-runs/{vtm_run_id}", responses=ERRORS)
def get_linked_run(vtm_run_id: str, service: ServiceDep, settings: SettingsDep) -> LinkedMlflowRun:
    """The MLflow run of a VTM run: the id its trainer reported, else the earliest run tagged
    ``vtm.run_id`` with it; all null when it has none. 404 when the VTM run is unknown."""
    vtm_run = service.get(vtm_run_id)
    try:
        found, how = ops.linked_run(settings, vtm_run.id, vtm_run.mlflow_run_id)
    except NotFound:
        # A look-up that finds nothing is an answer, not a failure: a 404 here would be a
        # browser console error on every run that never logged to MLflow.
        return LinkedMlflowRun(vtm_run_id=vtm_run.id, mlflow_run_id=None, linked_by=None, run=None)
    return LinkedMlflowRun(
        vtm_run_id=vtm_run.id,
        mlflow_run_id=found.info.run_id,
        linked_by=how,
        run=MlflowRunOut.of(found),
    )
