"""Serving the built web UI (web/ → src/vtm/web/) at `/`, with client-side routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
NOT_BUILT = """<!doctype html><title>VTM</title>
<p>The web UI is not built. Run <code>make run</code> (it builds <code>web/</code>), or use the
API at <a href="/docs">/docs</a>.</p>"""
# Paths that belong to the API; a miss there is a 404, never the app's page.
RESERVED = ("api/", "docs", "redoc", "openapi.json", "assets/")


def install(app: FastAPI, web_dir: Path = WEB_DIR) -> None:
    index = web_dir / "index.html"
    if (web_dir / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=web_dir / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False, response_model=None)
    def spa(path: str) -> FileResponse | HTMLResponse:
        if path.startswith(RESERVED):
            raise HTTPException(404, "Not Found")
        candidate = (web_dir / path).resolve()
        # Top-level files of the build (favicon, manifest), never a path out of it.
        if path and candidate.parent == web_dir.resolve() and candidate.is_file():
            return FileResponse(candidate)
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(NOT_BUILT)
