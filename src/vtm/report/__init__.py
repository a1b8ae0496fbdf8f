"""The quality report: per task, over a window of runs, how training is going.

make_report(repo, catalog, since=, task=)   read the store and compute (source → stats)
build_report(tasks, runs, window)           the computation alone, over plain records
render_html(report)                         one self-contained page with inline SVG charts
render_markdown(report)                     the same numbers as Markdown tables

Definitions of every number are in `stats` (and the README's "Quality report").
"""

from vtm.report.html import render_html
from vtm.report.markdown import render_markdown
from vtm.report.model import (
    ORIGIN_PERSON,
    Report,
    ReportRun,
    TaskInfo,
    TaskReport,
    Window,
)
from vtm.report.source import DEFAULT_SINCE, make_report, window_for
from vtm.report.stats import build_report

__all__ = [
    "DEFAULT_SINCE",
    "ORIGIN_PERSON",
    "Report",
    "ReportRun",
    "TaskInfo",
    "TaskReport",
    "Window",
    "build_report",
    "make_report",
    "render_html",
    "render_markdown",
    "window_for",
]
