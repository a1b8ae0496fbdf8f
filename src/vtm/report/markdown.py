"""The report as Markdown: the same numbers and tables as the HTML, the trend as a text
sparkline instead of a chart, and no links, so it pastes into an issue, a chat or a wiki."""

from __future__ import annotations

from vtm import __version__
from vtm.report import text
from vtm.report.model import Report, TaskReport

_ESCAPE = str.maketrans({c: f"\\{c}" for c in "\\`*_[]|<>#"})


def cell(value: object) -> str:
    """A table cell: Markdown's special characters escaped, on one line."""
    return " ".join(str(value).split()).translate(_ESCAPE)


def _code(value: str) -> str:
    return f"`{value.replace('`', '')}`"


def _ids(run_ids: tuple[str, ...]) -> str:
    return f"{len(run_ids)} ({', '.join(map(_code, run_ids))})" if run_ids else "0"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _summary(report: Report) -> list[str]:
    s, o = report.summary, report.summary.outcomes
    lines = [
        "## Summary",
        "",
        f"- **Runs:** {o.runs} "
        f"({text.outcomes_line(o.completed, o.failed, o.stopped, o.in_progress)})",
        f"- **Success rate:** {text.rate(o.success_rate)} "
        f"({o.completed} of {o.completed + o.failed} decided runs)",
        f"- **MTTR:** {text.duration(s.mttr_seconds)} "
        f"({s.incidents_recovered} recovered incident(s))",
        f"- **Open incidents:** {s.incidents_open}",
        f"- **Manual interventions:** {s.manual_interventions} "
        f"({s.stopped_by_hand} stopped, {s.rerun_by_hand} re-run by hand)",
        f"- **GPU use:** {text.gpu_line(s.gpu)}",
        f"- **Tasks:** {s.tasks}",
        "",
    ]
    rows = []
    for t in report.tasks:
        m = t.metric
        rows.append(
            [
                cell(t.info.task_id),
                str(t.outcomes.runs),
                text.rate(t.outcomes.success_rate),
                str(t.outcomes.failed),
                text.duration(t.mttr_seconds),
                str(sum(1 for i in t.incidents if i.is_open)),
                text.duration(t.durations.p50_seconds),
                text.duration(t.durations.p95_seconds),
                text.number(m.best.value if m and m.best else None),
                text.number(m.latest.value if m and m.latest else None),
                str(t.streak.days),
                str(t.manual.total),
            ]
        )
    head = ["Task", "Runs", "Success", "Failed", "MTTR", "Open", "p50", "p95", "Best", "Latest",
            "Streak (days)", "Manual"]  # fmt: skip
    return lines + _table(head, rows)


def _task(task: TaskReport) -> list[str]:
    o, d, m = task.outcomes, task.durations, task.metric
    name = f"{cell(task.info.title)} ({_code(task.info.task_id)})" if task.info.title else (
        _code(task.info.task_id))  # fmt: skip
    if not task.info.in_catalog:
        name += " (not in the catalog)"
    lines = [
        f"## {name}",
        "",
        f"- Runs: {o.runs} ({text.outcomes_line(o.completed, o.failed, o.stopped, o.in_progress)})",
        f"- Success rate: {text.rate(o.success_rate)}",
        f"- MTTR: {text.duration(task.mttr_seconds)}",
        f"- Duration p50 / p95: {text.duration(d.p50_seconds)} / {text.duration(d.p95_seconds)} "
        f"({d.count} finished runs)",
        f"- Nightly streak: {text.streak(task.streak.days, task.streak.latest_day)}",
        f"- GPU use: {text.gpu_line(task.gpu)}",
        f"- Stopped by hand: {_ids(task.manual.stopped_by_hand)}",
        f"- Re-run by hand: {_ids(task.manual.rerun_by_hand)}",
    ]  # fmt: skip
    if m is None:
        lines.append("- Primary metric: none in the catalog")
    elif m.best is None or m.latest is None:
        lines.append(f"- Primary metric {_code(m.name)}: no completed run reported it")
    else:
        values = [p.value for p in m.trend]
        lines += [
            f"- Primary metric {_code(m.name)} ({text.GOAL_WORDS[m.goal]}): "
            f"best **{text.number(m.best.value)}** ({_code(m.best.run_id)}, "
            f"{text.moment(m.best.finished_at)}), latest **{text.number(m.latest.value)}** "
            f"({_code(m.latest.run_id)}, {text.moment(m.latest.finished_at)})",
            f"- Trend ({len(values)} completed run{'' if len(values) == 1 else 's'}, oldest "
            f"first): {text.sparkline(values)} "
            f"{text.number(values[0])} → {text.number(values[-1])}",
        ]
    lines.append("")
    if task.incidents:
        rows = [
            [
                text.moment(i.started_at),
                f"**open**, {text.duration(i.open_for_seconds)} so far"
                if i.is_open
                else text.moment(i.ended_at),
                text.duration(i.duration_seconds),
                str(i.failed_runs),
                _code(i.first_failed_run_id),
                _code(i.recovered_by_run_id) if i.recovered_by_run_id else text.DASH,
            ]
            for i in task.incidents
        ]
        head = ["Started", "Ended", "Time to recover", "Failed runs", "First failure",
                "Recovered by"]  # fmt: skip
        lines += ["### Incidents", "", *_table(head, rows)]
    if task.failures:
        lines += ["### Failures", ""]
        lines += _table(
            ["Kind", "Reason", "Runs"],
            [[text.KIND_LABELS[r.kind], cell(r.reason), str(r.count)] for r in task.reasons],
        )
        lines += _table(
            ["Run", "Finished", "Exit code", "Reason"],
            [
                [
                    _code(f.run_id),
                    text.moment(f.finished_at),
                    text.DASH if f.exit_code is None else str(f.exit_code),
                    cell(f.reason),
                ]
                for f in task.failures
            ],
        )
    return lines


def render_markdown(report: Report) -> str:
    lines = [
        f"# {cell(text.title(report))}",
        "",
        f"{cell(text.window(report.window, report.task_filter))}. "
        f"Generated {text.moment(report.generated_at)} by VTM {__version__}.",
        "",
        *_summary(report),
    ]
    idle = [t.info.task_id for t in report.tasks if not t.outcomes.runs]
    if idle:
        lines += [f"No runs in the window: {', '.join(map(_code, idle))}.", ""]
    for task in report.tasks:
        if task.outcomes.runs:
            lines += _task(task)
    lines += ["## Definitions", ""]
    lines += [f"- **{term}:** {words}" for term, words in text.DEFINITIONS]
    return "\n".join(lines) + "\n"
