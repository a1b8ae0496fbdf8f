"""`vtm run --follow`: a live progress line with the metrics until the run ends.

The line fits the terminal, whatever its width: the status, the bar and the epoch stay. The
metrics are cut first (whole ``name=value`` items, then "…"), then the elapsed time goes; only
then does the bar get narrower than ten columns and "epoch 3/10" become "3/10". The run id is
not on the line: `vtm run` printed it just above.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from vtm_client import VtmClient

from vtm.cli.runs_table import cut_metric
from vtm.protocol import POSITION_KEYS

TERMINAL = ("completed", "failed", "stopped")
# What `vtm run --follow` exits with when the run did not complete and gave no code.
EXIT_FAILED = 1
EXIT_STOPPED = 130
# Ctrl-C while following stops the following, not the run: its outcome is not known yet, which
# is what sysexits' EX_TEMPFAIL says. Distinct from 130, which means a person stopped the run.
EXIT_NOT_FOLLOWED = 75

BAR_MAX = 40
BAR_MIN = 10  # the bar is no narrower while anything else can still give way
STATUS_WIDTH = 9  # "completed": the line does not jump when the status changes
METRICS_MIN = 8  # fewer columns than this for the metrics: leave them out
_STYLES = {"completed": "green", "failed": "red", "stopped": "yellow", "reconnecting…": "yellow"}


def exit_code_for(run: dict[str, Any]) -> int:
    """The CLI's exit code mirrors the run: 0 completed, the trainer's code when it failed
    with one (1 otherwise), 130 when a person stopped it."""
    status = run["status"]
    if status == "completed":
        return 0
    if status == "stopped":
        return EXIT_STOPPED
    code = run.get("exitCode")
    return code if isinstance(code, int) and 0 < code < 256 else EXIT_FAILED


def metric_items(progress: Mapping[str, Any]) -> list[str]:
    """The progress's metrics and attributes as ``name=value``, in the trainer's order."""
    parts = []
    for key, value in progress.items():
        if key in POSITION_KEYS:
            continue
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, int | str) and not isinstance(value, bool):
            parts.append(f"{key}={value}")
    return parts


def metrics_text(progress: Mapping[str, Any]) -> str:
    return " ".join(metric_items(progress))


def fit_items(items: list[str], width: int) -> str:
    """As many whole items as fit in ``width``, "…" standing for the rest."""
    shown: list[str] = []
    for i, item in enumerate(items):
        more = i < len(items) - 1
        candidate = " ".join([*shown, item])
        # Room for " …" must remain unless this is the last item.
        if len(candidate) + (2 if more else 0) > width:
            break
        shown.append(item)
    else:
        return " ".join(shown)
    if not shown:
        return cut_metric(items[0], width)
    return " ".join([*shown, "…"])


def _elapsed(seconds: float) -> str:
    return str(timedelta(seconds=int(max(seconds, 0))))


def _duration(run: Mapping[str, Any]) -> float | None:
    """How long a finished run ran, by the server's clock, if it says."""
    try:
        start = datetime.fromisoformat(str(run["startedAt"]))
        end = datetime.fromisoformat(str(run["finishedAt"]))
    except (KeyError, TypeError, ValueError):
        return None
    return (end - start).total_seconds()


def progress_line(
    run: Mapping[str, Any], width: int, elapsed: float, status: str | None = None
) -> Table:
    """The follow line of ``run`` in ``width`` columns (``status`` overrides the run's)."""
    progress = run.get("progress") or {}
    shown_status = status or str(run["status"])
    total, done, unit = progress.get("total_epochs"), progress.get("epoch"), "epoch"
    bar_state = progress.get("bar")
    if done is None and isinstance(bar_state, dict):
        # No epochs reported: where the trainer's own progress bar stands.
        total, done, unit = bar_state.get("total"), bar_state.get("n"), "step"
    if done is None:
        epoch = ""
    else:
        epoch = f"{unit} {done}/{total}" if total is not None else f"{unit} {done}"
    items = metric_items(progress)
    clock = _elapsed(elapsed)

    status_w = max(STATUS_WIDTH, len(shown_status))

    def left(with_clock: bool, with_metrics: bool) -> int:
        """Columns for the bar and the metrics once the other parts and the gaps are placed."""
        fixed = [status_w, *([len(epoch)] if epoch else []), *([len(clock)] if with_clock else [])]
        parts = len(fixed) + 1 + (1 if with_metrics else 0)
        return width - sum(fixed) - (parts - 1)

    with_clock, with_metrics = True, bool(items)
    if with_metrics and left(True, True) - BAR_MIN < METRICS_MIN:
        with_metrics = False
    if left(True, with_metrics) < BAR_MIN:
        with_clock = False
    if epoch and left(False, False) < BAR_MIN:
        epoch = epoch.removeprefix(f"{unit} ")
    room = left(with_clock, with_metrics)
    metrics = ""
    if with_metrics:
        bar_w = min(BAR_MAX, max(BAR_MIN, room - len(" ".join(items))))
        metrics = fit_items(items, room - bar_w)
    else:
        bar_w = min(BAR_MAX, max(1, room))

    bar_total = float(total) if isinstance(total, int | float) and total > 0 else None
    bar = ProgressBar(
        total=bar_total,
        completed=float(done) if isinstance(done, int | float) else 0.0,
        width=bar_w,
        pulse=bar_total is None,
        animation_time=elapsed,
    )
    line = Table.grid(padding=(0, 1, 0, 0))
    cells: list[Any] = [Text(shown_status.ljust(status_w), style=_STYLES.get(shown_status, "bold"))]
    line.add_column(no_wrap=True, width=status_w)
    cells.append(bar)
    line.add_column(no_wrap=True, width=bar_w)
    if epoch:
        cells.append(Text(epoch))
        line.add_column(no_wrap=True)
    if with_clock:
        cells.append(Text(clock, style="yellow"))
        line.add_column(no_wrap=True)
    if metrics:
        cells.append(Text(metrics))
        line.add_column(no_wrap=True, overflow="ellipsis")
    line.add_row(*cells)
    return line


class Follower:
    """What the live display shows: the latest record of the run, at the console's width."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.run: dict[str, Any] | None = None
        self.status: str | None = None  # shown instead of the run's, e.g. "reconnecting…"
        self._since = time.monotonic()
        self._ended: float | None = None

    def show(self, run: dict[str, Any], status: str | None = None) -> None:
        self.run, self.status = run, status
        if run["status"] in TERMINAL and self._ended is None:
            ran = _duration(run)
            self._ended = ran if ran is not None else time.monotonic() - self._since

    def elapsed(self) -> float:
        return self._ended if self._ended is not None else time.monotonic() - self._since

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.run is not None:
            yield progress_line(self.run, options.max_width, self.elapsed(), self.status)


REFRESH_SECONDS = 0.25  # the clock and the pulsing bar move between the run's events


def _tick(live: Live, done: threading.Event) -> None:
    while not done.wait(REFRESH_SECONDS):
        live.refresh()


def follow(vtm: VtmClient, run_id: str, console: Console) -> dict[str, Any]:
    """Show the run live until it ends; returns its final record.

    The display is refreshed by a daemon thread of ours that is never joined, not by Live's
    own refresh thread, which Live joins on exit: a Ctrl-C landing between a lock's acquire
    and its ``with`` block can leave that lock held, and the join then waited forever.
    """
    follower = Follower(console)
    done = threading.Event()
    try:
        with Live(follower, console=console, auto_refresh=False, transient=False) as live:
            threading.Thread(target=_tick, args=(live, done), daemon=True).start()
            try:
                return _watch(vtm, run_id, follower)
            finally:
                done.set()
    finally:
        if not console.is_interactive:
            # Live leaves the last frame without an end of line where it cannot move the
            # cursor (a pipe, a file); what is printed next must not run on from it.
            console.line()


def _watch(vtm: VtmClient, run_id: str, follower: Follower) -> dict[str, Any]:
    run = vtm.get_run(run_id)
    follower.show(run)
    if run["status"] in TERMINAL:
        return run
    events = vtm.events(run_id=run_id)
    try:
        for event in events:
            if event.type in ("run.updated", "run.finished", "run.created"):
                run = event.json()
            elif event.type in ("resync", "hello"):
                run = vtm.get_run(run_id)  # we may have missed events: take the current state
            elif event.type == "disconnected":
                follower.show(run, status="reconnecting…")
                continue
            else:
                continue
            follower.show(run)
            if run["status"] in TERMINAL:
                break
    finally:
        events.close()  # the stream's connection, now rather than when collected
    return run
