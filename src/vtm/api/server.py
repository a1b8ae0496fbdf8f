"""Running the app under uvicorn, ending event streams as soon as shutdown begins."""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI

from vtm.api.app import create_app
from vtm.settings import Settings


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Uvicorn waits for open responses before shutting down; an event stream never
        # ends by itself, so end them now: browsers reconnect to the next server at once.
        runtime = getattr(self._app.state, "runtime", None)
        if runtime is not None:
            runtime.bus.close_all()
        super().handle_exit(sig, frame)


def serve(settings: Settings) -> None:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_graceful_shutdown=3,
    )
    _Server(config, app).run()
