"""What the web UI needs to know about this server."""

from __future__ import annotations

from fastapi import APIRouter

from vtm import __version__
from vtm.api.deps import RuntimeDep
from vtm.api.schemas import ServerConfig

router = APIRouter(prefix="/api/config", tags=["config"])


@router.get("")
def get_config(runtime: RuntimeDep) -> ServerConfig:
    return ServerConfig(version=__version__, mlflow_ui_url=runtime.settings.mlflow_ui_url)
