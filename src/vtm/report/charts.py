"""The report's charts, drawn by matplotlib as SVG text to inline in the HTML.

matplotlib is imported on first use (it costs about a second, which the server and CLI should
not pay at start). Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot,
so no global figure state is shared between the API's worker threads; one lock still keeps
rendering to one thread at a time, because matplotlib's font and text caches are not
thread-safe. Text is drawn as paths (matplotlib's default ``svg.fonttype``), so the SVG needs
no font; its metadata and XML prolog are dropped, so the page refers to nothing outside itself.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from vtm.report.model import DayOutcomes, MetricPointRef

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_lock = threading.Lock()

COLOURS = {"completed": "#2e7d32", "failed": "#c62828", "stopped": "#f9a825", "line": "#1565c0"}
WIDTH, HEIGHT = 7.2, 2.6  # inches; the page scales the SVG to its column

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
# Namespace declarations are names, not links; inline SVG in HTML needs none of them.
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SIZE = re.compile(r'\s+(?:width|height)="[^"]*"')


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    axes = figure.add_subplot()
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _date_axis(axes: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    # matplotlib.dates ships no type hints.
    locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _dates(values: Sequence[date | datetime]) -> list[float]:
    """matplotlib's date numbers, which its date locator and formatter read."""
    from matplotlib.dates import date2num

    return [float(date2num(v)) for v in values]  # type: ignore[no-untyped-call]


def _svg(figure: Figure, label: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)
    head, _, body = text.partition(">")
    head = _SIZE.sub("", _XMLNS.sub("", head))
    return f'{head} role="img" aria-label="{label}" class="chart">{body}'


def outcomes_chart(days: Sequence[DayOutcomes]) -> str:
    """Finished runs per UTC day, stacked by outcome."""
    from matplotlib.ticker import MaxNLocator

    with _lock:
        figure, axes = _figure()
        x = _dates([d.day for d in days])
        completed = [d.completed for d in days]
        failed = [d.failed for d in days]
        stopped = [d.stopped for d in days]
        below = [c + f for c, f in zip(completed, failed, strict=True)]
        axes.bar(x, completed, width=0.8, color=COLOURS["completed"], label="completed")
        axes.bar(x, failed, width=0.8, bottom=completed, color=COLOURS["failed"], label="failed")
        axes.bar(x, stopped, width=0.8, bottom=below, color=COLOURS["stopped"], label="stopped")
        axes.set_ylabel("runs")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        _date_axis(axes)
        axes.legend(loc="upper left", frameon=False, ncols=3, fontsize="small")
        top = max([c + s for c, s in zip(below, stopped, strict=True)] + [1])
        axes.set_ylim(0, top * 1.3)  # room for the legend above the bars
        return _svg(figure, "Finished runs per day by outcome")


def metric_chart(trend: Sequence[MetricPointRef], best: MetricPointRef | None) -> str:
    """The primary metric of each completed run over time, the best one ringed."""
    with _lock:
        figure, axes = _figure()
        x = _dates([p.finished_at for p in trend])
        y = [p.value for p in trend]
        axes.plot(x, y, color=COLOURS["line"], marker="o", markersize=4, linewidth=1.4)
        if best is not None:
            axes.plot(
                _dates([best.finished_at]),
                [best.value],
                marker="o",
                markersize=11,
                markerfacecolor="none",
                markeredgecolor=COLOURS["completed"],
                markeredgewidth=2,
                linestyle="none",
                label="best",
            )
            axes.legend(loc="best", frameon=False, fontsize="small")
        if len(trend) == 1:  # one point: give the date axis a day's width around it
            axes.set_xlim(x[0] - 0.5, x[0] + 0.5)
        _date_axis(axes)
        return _svg(figure, "Primary metric of completed runs over time")
