"""Wording shared by the HTML and Markdown renderings: numbers, times, labels, definitions.

Both renderings format through here, so they show the same numbers the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from vtm.report.model import FailureKind, Goal, GpuUse, Report, Window

DASH = "—"

KIND_LABELS: dict[FailureKind, str] = {
    "exit_code": "exit code",
    "timeout": "timeout",
    "signal": "killed by signal",
    "supervisor_lost": "supervisor lost",
    "launch": "could not launch",
    "other": "other",
}


def gpu_hours(g: GpuUse) -> str:
    return f"{g.gpu_hours:.2f} ({g.gpu_runs} runs)" if g.gpu_runs else DASH


def energy(g: GpuUse) -> str:
    if g.energy_wh is None:
        return DASH
    return f"{g.energy_wh:.1f} Wh ({g.measured_runs} of {g.gpu_runs} runs measured)"


def cost(g: GpuUse) -> str:
    return DASH if g.cost is None else f"{g.cost:.2f}"


def gpu_line(g: GpuUse) -> str:
    """GPU-hours, energy and cost in one line."""
    if not g.gpu_runs:
        return "no run held a GPU"
    parts = [f"{gpu_hours(g)} GPU-hours", f"energy {energy(g)}"]
    if g.cost is not None:
        parts.append(f"cost {cost(g)}")
    return ", ".join(parts)


GOAL_WORDS: dict[Goal, str] = {"max": "higher is better", "min": "lower is better"}

# What each number means; the report prints these under its tables (README repeats them).
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Window", "runs created between the window's start and the report's time; nothing else."),
    (
        "Success rate",
        "completed ÷ (completed + failed). Stopped runs are a person's decision and count as "
        "manual interventions; queued and running runs are in progress.",
    ),
    (
        "Incident",
        "starts when a run fails after a completed run of the same task (or as the task's "
        "first outcome in the window) and ends when the next run of that task completes; "
        "times are the runs' finish times.",
    ),
    ("MTTR", "mean duration of the incidents that ended; open incidents are listed, not averaged."),
    (
        "Duration p50 / p95",
        "started → finished of finished runs, linear interpolation between closest ranks "
        "(numpy's default).",
    ),
    (
        "GPU use",
        "GPUs held times hours held, start to finish (a run still going: to the window's "
        "end); energy from the GPUs' NVML counters, over the runs whose GPUs count it; cost "
        "is GPU-hours times VTM_GPU_HOUR_COST when that rate is set.",
    ),
    (
        "Best / latest",
        "over completed runs, each valued by its last reported point of the primary metric.",
    ),
    (
        "Manual interventions",
        "runs a person stopped, plus runs a person started again after a failed or stopped run "
        "of the same task with the same fields.",
    ),
    (
        "Nightly streak",
        "consecutive UTC days, counting back from the latest day with a finished run, whose "
        "last finished run completed.",
    ),
)


def duration(seconds: float | None) -> str:
    """ "42 s", "12 min 5 s", "1 h 30 min", "2 d 4 h"; a dash for none."""
    if seconds is None:
        return DASH
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if seconds < 86400:
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def rate(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def moment(value: datetime | None) -> str:
    return DASH if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def day(value: date | None) -> str:
    return DASH if value is None else value.isoformat()


def number(value: float | None) -> str:
    return DASH if value is None else f"{value:.4g}"


def streak(days: int, latest: date | None) -> str:
    if latest is None:
        return DASH
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} (through {latest.isoformat()})" if days else f"0 (last day {latest})"


def window(w: Window, task_filter: str | None) -> str:
    text = f"Runs created from {moment(w.start)} to {moment(w.end)} (last {w.since})"
    return text + (f", task {task_filter}" if task_filter else "")


def outcomes_line(completed: int, failed: int, stopped: int, in_progress: int) -> str:
    return (
        f"{completed} completed · {failed} failed · {stopped} stopped · {in_progress} in progress"
    )


def title(report: Report) -> str:
    return "VTM quality report" + (f": {report.task_filter}" if report.task_filter else "")


def sparkline(values: list[float]) -> str:
    """The metric's trend as block characters, for a text-only rendering."""
    if not values:
        return ""
    bars = "▁▂▃▄▅▆▇█"
    low, high = min(values), max(values)
    if high == low:
        return bars[3] * len(values)
    return "".join(bars[round((v - low) / (high - low) * (len(bars) - 1))] for v in values)
