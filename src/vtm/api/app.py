"""The FastAPI application: REST API, Server-Sent Events, OpenAPI at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from vtm import __version__
from vtm.api import errors, static
from vtm.api.deps import require_token
from vtm.api.routes import catalog, config, events, gpus, health, pipelines, runs
from vtm.api.routes import external as external_runs
from vtm.api.routes import mlflow as mlflow_ops
from vtm.api.routes import publish as model_publish
from vtm.api.routes import report as quality_report
from vtm.api.runtime import Runtime
from vtm.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.build(settings)
        app.state.runtime = runtime
        runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="VTM",
        version=__version__,
        description="Training run manager: start, watch and stop training runs.",
        lifespan=lifespan,
    )
    errors.install(app)
    secured = [Depends(require_token)]
    app.include_router(health.router)
    app.include_router(catalog.router, dependencies=secured)
    app.include_router(runs.router, dependencies=secured)
    app.include_router(gpus.router, dependencies=secured)
    app.include_router(external_runs.router, dependencies=secured)
    app.include_router(external_runs.reports)  # its own credentials: a run's token, a ticket
    app.include_router(events.router, dependencies=secured)
    app.include_router(config.router, dependencies=secured)
    app.include_router(mlflow_ops.router, dependencies=secured)
    app.include_router(quality_report.router, dependencies=secured)
    app.include_router(model_publish.router, dependencies=secured)
    app.include_router(pipelines.router, dependencies=secured)
    static.install(app)  # last: its catch-all route must not shadow the API
    return app
