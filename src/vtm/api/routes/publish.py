"""Publish a task's best model to the MLflow Model Registry and the FTP registry."""

from __future__ import annotations

from fastapi import APIRouter

from vtm.api.deps import RuntimeDep
from vtm.api.publish_schemas import PublishBody, PublishResponse
from vtm.api.schemas import ErrorBody
from vtm.errors import UpstreamError
from vtm.publish import publish as publish_best

STORE_WAIT_SECONDS = 120.0

router = APIRouter(prefix="/api/publish", tags=["publish"])

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown task, or no run to publish (says why)"},
    409: {
        "model": ErrorBody,
        "description": "not_published: the model is below the task's floor or fails the gate "
        "(the message says by how much); or the run asked for is not completed",
    },
    422: {"model": ErrorBody, "description": "Invalid metric, goal, since or alias"},
    502: {"model": ErrorBody, "description": "MLflow or the FTP registry failed; nothing changed"},
}


# A plain `def`: MLflow and FTP calls block, so FastAPI runs this in its thread pool.
@router.post("", responses=ERRORS)
def publish(body: PublishBody, runtime: RuntimeDep) -> PublishResponse:
    """Choose the task's best completed run (or `runId`), judge it (the task's floor, the
    `gate`), register its model as a new version, upload the files and model_card.json to the
    FTP registry (verified, renamed into place), then set the alias. Publishing the same
    version again changes nothing (alreadyPublished)."""
    # The server creates the embedded store's tables at start; opening it before that is done
    # would race the creation.
    store = runtime.mlflow_store
    if not store.wait(STORE_WAIT_SECONDS):
        raise UpstreamError(f"the MLflow store is not ready: {store.error or 'still starting'}")
    result = publish_best(
        runtime.settings,
        runtime.catalog.require().catalog,
        runtime.service.repo,
        body.to_request(),
    )
    return PublishResponse.of(result)
