"""`vtm runs`: one line per run at any terminal width.

A row never wraps. When the columns do not fit, they give way in a fixed order: the creation
time first (the run id starts with it), then the metric's name (never its value) and the task
id are cut with "…", then the epoch and the metric go, and in the narrowest terminals the
task. The run id and the status are never cut: people copy the one and read the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

GAP = 2
ELLIPSIS = "…"


def cut_end(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, "…" marking a cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS if width > 0 else ""


def cut_metric(text: str, width: int) -> str:
    """``name=value`` in at most ``width`` characters, cutting the name so the value stays."""
    if len(text) <= width:
        return text
    name, sep, value = text.rpartition("=")
    room = width - len(value) - len(sep) - len(ELLIPSIS)
    if not sep or room < 1:
        return cut_end(text, width)
    return f"{name[:room]}{ELLIPSIS}{sep}{value}"


@dataclass
class _Column:
    header: str
    cells: list[str]
    cut: Callable[[str, int], str] | None = None  # None: never cut

    def __post_init__(self) -> None:
        self.natural = max([len(self.header), *(len(c) for c in self.cells)])
        self.width = self.natural


# (what, column, narrowest width when cutting), tried in order until the row fits.
_GIVE_WAY: tuple[tuple[str, str, int], ...] = (
    ("drop", "created", 0),
    ("cut", "metric", 14),
    ("cut", "task", 12),
    ("drop", "epoch", 0),
    ("drop", "metric", 0),
    ("cut", "task", 6),
    ("drop", "task", 0),
)


def _epoch(progress: Mapping[str, Any]) -> str:
    if "epoch" not in progress:
        return ""
    return f"{progress['epoch']}/{progress.get('total_epochs', '?')}"


def _metric(progress: Mapping[str, Any], name: str | None) -> str:
    value = progress.get(name) if name else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{name}={value:.4g}"
    return ""


def runs_table(runs: Sequence[Mapping[str, Any]], primary: Mapping[str, str], width: int) -> Table:
    """The runs as a table no wider than ``width`` (``primary``: task id → metric name)."""
    progress = [r.get("progress") or {} for r in runs]
    columns = {
        "id": _Column("id", [r["id"] for r in runs]),
        "task": _Column("task", [r["taskId"] for r in runs], cut_end),
        "status": _Column("status", [r["status"] for r in runs]),
        "epoch": _Column("epoch", [_epoch(p) for p in progress]),
        "metric": _Column(
            "metric",
            [_metric(p, primary.get(r["taskId"])) for r, p in zip(runs, progress, strict=True)],
            cut_metric,
        ),
        "created": _Column("created", [str(r["createdAt"])[5:16].replace("T", " ") for r in runs]),
    }

    def total() -> int:
        return sum(c.width for c in columns.values()) + GAP * (len(columns) - 1)

    for action, name, narrowest in _GIVE_WAY:
        excess = total() - width
        if excess <= 0:
            break
        if name not in columns:
            continue
        if action == "drop":
            del columns[name]
        else:
            column = columns[name]
            column.width = min(column.width, max(narrowest, column.width - excess))
    # A column dropped late can leave room that an earlier cut no longer needs to take.
    for column in columns.values():
        spare = width - total()
        if column.cut is not None and spare > 0:
            column.width = min(column.natural, column.width + spare)

    table = Table(
        box=None, show_edge=False, pad_edge=False, padding=(0, GAP, 0, 0), header_style="bold"
    )
    for column in columns.values():
        # The cells are cut to fit already; no_wrap keeps a row on its line whatever happens.
        table.add_column(column.header, width=column.width, no_wrap=True, overflow="ellipsis")
    for i in range(len(runs)):
        table.add_row(
            *(c.cut(c.cells[i], c.width) if c.cut else c.cells[i] for c in columns.values())
        )
    return table
