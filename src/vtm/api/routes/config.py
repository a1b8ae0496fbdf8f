"""What the web UI needs to know about this server."""

from __future__ import annotations

from fastapi import APIRouter

from vtm import __version__
from vtm.api.deps import RuntimeDep
from vtm.api.schemas import ServerConfig, SideServerOut

router = APIRouter(prefix="/api/config", tags=["config"])


@router.get("")
async def get_config(runtime: RuntimeDep) -> ServerConfig:
    side = runtime.side_servers
    return ServerConfig(
        version=__version__,
        mlflow_ui_url=side.mlflow_ui_url,
        tensorboard_url=side.tensorboard_url,
        airflow_url=runtime.settings.airflow_url,
        services=[
            SideServerOut(
                name=s.name,
                url=s.url,
                state=s.state,
                error=f"{s.error} (log: {s.log_path})" if s.error else None,
            )
            for s in side.statuses()
        ],
        executors=["local", "ray"] if runtime.service.ray.configured else ["local"],
    )
