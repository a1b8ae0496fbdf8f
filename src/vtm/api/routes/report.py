"""The quality report: JSON, a self-contained HTML page, and Markdown.

Plain ``def`` routes: reading every run of the window and drawing the charts is blocking work,
which FastAPI runs in its thread pool instead of on the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse

from vtm.api.deps import RuntimeDep
from vtm.api.report_schemas import QualityReport
from vtm.api.runtime import Runtime
from vtm.api.schemas import ErrorBody
from vtm.report import DEFAULT_SINCE, Report, make_report, render_html, render_markdown

router = APIRouter(prefix="/api", tags=["report"])

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "The task is neither in the catalog nor has runs"},
    422: {"model": ErrorBody, "description": "A bad `since` duration"},
}

SinceQuery = Annotated[
    str,
    Query(description='How far back runs are reported, by creation: "7d", "12h", "90m", "3600".'),
]
TaskQuery = Annotated[
    str | None,
    Query(description="Only this task. A catalog task without runs is reported with none."),
]


def _report(runtime: Runtime, since: str, task: str | None) -> Report:
    current = runtime.catalog.current
    return make_report(
        runtime.service.repo,
        current.catalog if current else None,
        since=since,
        task=task or None,
        gpu_hour_cost=runtime.settings.gpu_hour_cost,
    )


@router.get("/report", responses=ERRORS)
def get_report(
    runtime: RuntimeDep, since: SinceQuery = DEFAULT_SINCE, task: TaskQuery = None
) -> QualityReport:
    """Per task: runs, success rate, failures and reasons, MTTR, duration p50/p95, best and
    latest primary metric, manual interventions, the nightly success streak and GPU use
    (GPU-hours, energy, cost)."""
    return QualityReport.of(_report(runtime, since, task))


@router.get("/report.html", response_class=HTMLResponse, responses=ERRORS)
def get_report_html(
    runtime: RuntimeDep, since: SinceQuery = DEFAULT_SINCE, task: TaskQuery = None
) -> HTMLResponse:
    """The report as one HTML page with its charts inline; it opens offline."""
    return HTMLResponse(render_html(_report(runtime, since, task)))


@router.get("/report.md", response_class=PlainTextResponse, responses=ERRORS)
def get_report_markdown(
    runtime: RuntimeDep, since: SinceQuery = DEFAULT_SINCE, task: TaskQuery = None
) -> PlainTextResponse:
    """The report as Markdown: the same numbers and tables, the trend as text."""
    return PlainTextResponse(
        render_markdown(_report(runtime, since, task)), media_type="text/markdown; charset=utf-8"
    )
