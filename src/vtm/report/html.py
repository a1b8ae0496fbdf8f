"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no scripts, no
links out of the page, so it opens the same from a file, a mail attachment or offline.

Every value that came from a run or the catalog is escaped. Elements carry ``data-testid``
so tests (and anyone scripting the page) can find the numbers.
"""

from __future__ import annotations

from html import escape

from vtm import __version__
from vtm.report import text
from vtm.report.charts import metric_chart, outcomes_chart
from vtm.report.model import Incident, Report, TaskReport

STYLE = """
:root { color-scheme: light; --fg: #1d2330; --muted: #5d6677; --line: #dfe3ea;
  --card: #f6f8fb; --ok: #2e7d32; --bad: #c62828; --warn: #a86b00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 8px; padding-top: 12px; border-top: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 20px 0 6px; }
.meta, .note, figcaption { color: var(--muted); font-size: .9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px;
  margin: 20px 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.card .label { color: var(--muted); font-size: .8rem; text-transform: uppercase;
  letter-spacing: .04em; }
.card .value { font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--muted); font-size: .8rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: .9rem; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: .85rem ui-monospace, SFMono-Regular, Menlo, monospace; }
.open { color: var(--bad); font-weight: 600; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 4px 24px;
  margin: 8px 0; }
.facts div { display: flex; justify-content: space-between; gap: 12px;
  border-bottom: 1px dotted var(--line); padding: 3px 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; text-align: right; }
figure { margin: 8px 0 16px; }
svg.chart { width: 100%; max-width: 820px; height: auto; display: block; }
dl.defs dt { font-weight: 600; margin-top: 6px; }
dl.defs dd { margin: 0 0 0 16px; color: var(--muted); }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _card(key: str, label: str, value: str, sub: str) -> str:
    return (
        f'<div class="card" data-testid="summary-{key}"><div class="label">{_e(label)}</div>'
        f'<div class="value" data-testid="summary-{key}-value">{_e(value)}</div>'
        f'<div class="sub">{_e(sub)}</div></div>'
    )


def _table(head: list[str], rows: list[list[str]], testid: str, numeric: set[int]) -> str:
    """A table from already-escaped cells; columns in ``numeric`` are right-aligned."""

    def cls(i: int) -> str:
        return ' class="num"' if i in numeric else ""

    header = "".join(f"<th{cls(i)}>{h}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table data-testid="{testid}"><thead><tr>{header}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _task_name(task: TaskReport) -> str:
    info = task.info
    name = f"{_e(info.title)} <code>{_e(info.task_id)}</code>" if info.title else _e(info.task_id)
    return name if info.in_catalog else f"{name} (not in the catalog)"


def _summary(report: Report) -> str:
    s, o = report.summary, report.summary.outcomes
    cards = "".join(
        [
            _card("runs", "Runs", str(o.runs), text.outcomes_line(
                o.completed, o.failed, o.stopped, o.in_progress)),
            _card("success-rate", "Success rate", text.rate(o.success_rate),
                  f"{o.completed} of {o.completed + o.failed} decided runs"),
            _card("mttr", "MTTR", text.duration(s.mttr_seconds),
                  f"{s.incidents_recovered} recovered incident(s)"),
            _card("open-incidents", "Open incidents", str(s.incidents_open),
                  "failing, not yet recovered"),
            _card("manual", "Manual interventions", str(s.manual_interventions),
                  f"{s.stopped_by_hand} stopped, {s.rerun_by_hand} re-run by hand"),
            _card("tasks", "Tasks", str(s.tasks), "in the report"),
        ]
    )  # fmt: skip
    chart = (
        '<figure data-testid="chart-outcomes">'
        + outcomes_chart(s.days)
        + "<figcaption>Finished runs per UTC day, by outcome.</figcaption></figure>"
        if o.runs
        else ""
    )
    rows = []
    for t in report.tasks:
        m = t.metric
        anchor = f'<a href="#task-{_e(t.info.task_id)}">{_e(t.info.task_id)}</a>'
        rows.append(
            [
                anchor if t.outcomes.runs else _e(t.info.task_id),
                str(t.outcomes.runs),
                _e(text.rate(t.outcomes.success_rate)),
                str(t.outcomes.failed),
                _e(text.duration(t.mttr_seconds)),
                str(sum(1 for i in t.incidents if i.is_open)),
                _e(text.duration(t.durations.p50_seconds)),
                _e(text.duration(t.durations.p95_seconds)),
                _e(text.number(m.best.value if m and m.best else None)),
                _e(text.number(m.latest.value if m and m.latest else None)),
                str(t.streak.days),
                str(t.manual.total),
            ]
        )
    head = ["Task", "Runs", "Success", "Failed", "MTTR", "Open", "p50", "p95", "Best", "Latest",
            "Streak (days)", "Manual"]  # fmt: skip
    table = _table(head, rows, "tasks-table", set(range(1, 12)))
    return (
        f'<section data-testid="summary"><div class="cards">{cards}</div>{chart}'
        f"<h3>Tasks</h3>{table}</section>"
    )


def _facts(task: TaskReport) -> str:
    o, d = task.outcomes, task.durations
    items = [
        ("runs", "Runs", str(o.runs)),
        ("success-rate", "Success rate", text.rate(o.success_rate)),
        ("mttr", "MTTR", text.duration(task.mttr_seconds)),
        ("p50", "Duration p50", text.duration(d.p50_seconds)),
        ("p95", "Duration p95", text.duration(d.p95_seconds)),
        ("streak", "Nightly streak", text.streak(task.streak.days, task.streak.latest_day)),
        ("stopped-by-hand", "Stopped by hand", str(len(task.manual.stopped_by_hand))),
        ("rerun-by-hand", "Re-run by hand", str(len(task.manual.rerun_by_hand))),
        ("gpu-hours", "GPU-hours", text.gpu_hours(task.gpu)),
        ("energy", "Energy", text.energy(task.gpu)),
        ("cost", "Cost", text.cost(task.gpu)),
    ]  # fmt: skip
    cells = "".join(
        f'<div><dt>{_e(label)}</dt><dd data-testid="fact-{key}">{_e(value)}</dd></div>'
        for key, label, value in items
    )
    line = text.outcomes_line(o.completed, o.failed, o.stopped, o.in_progress)
    return f'<p class="meta" data-testid="outcomes">{_e(line)}</p><dl class="facts">{cells}</dl>'


def _metric(task: TaskReport) -> str:
    m = task.metric
    if m is None:
        return '<p class="note">This task has no primary metric in the catalog.</p>'
    head = f"<h3>Primary metric <code>{_e(m.name)}</code> ({_e(text.GOAL_WORDS[m.goal])})</h3>"
    if m.best is None or m.latest is None:
        return head + '<p class="note">No completed run reported it in this window.</p>'
    lines = (
        f'<p>Best <strong data-testid="metric-best">{_e(text.number(m.best.value))}</strong> '
        f"(run <code>{_e(m.best.run_id)}</code>, {_e(text.moment(m.best.finished_at))}); "
        f'latest <strong data-testid="metric-latest">{_e(text.number(m.latest.value))}</strong> '
        f"(run <code>{_e(m.latest.run_id)}</code>, {_e(text.moment(m.latest.finished_at))}).</p>"
    )
    chart = (
        '<figure data-testid="chart-metric">'
        + metric_chart(m.trend, m.best)
        + f"<figcaption>{_e(m.name)} of each completed run, by finish time; the best is "
        "ringed.</figcaption></figure>"
    )
    return head + lines + chart


def _incident_row(i: Incident) -> list[str]:
    ended = (
        f'<span class="open">open, {_e(text.duration(i.open_for_seconds))} so far</span>'
        if i.is_open
        else _e(text.moment(i.ended_at))
    )
    recovered = f"<code>{_e(i.recovered_by_run_id)}</code>" if i.recovered_by_run_id else "—"
    return [
        _e(text.moment(i.started_at)),
        ended,
        _e(text.duration(i.duration_seconds)),
        str(i.failed_runs),
        f"<code>{_e(i.first_failed_run_id)}</code>",
        recovered,
    ]


def _failures(task: TaskReport) -> str:
    if not task.failures:
        return ""
    reasons = _table(
        ["Kind", "Reason", "Runs"],
        [[_e(text.KIND_LABELS[r.kind]), _e(r.reason), str(r.count)] for r in task.reasons],
        f"reasons-{task.info.task_id}",
        {2},
    )
    runs = _table(
        ["Run", "Finished", "Exit code", "Reason"],
        [
            [
                f"<code>{_e(f.run_id)}</code>",
                _e(text.moment(f.finished_at)),
                _e("—" if f.exit_code is None else f.exit_code),
                _e(f.reason),
            ]
            for f in task.failures
        ],
        f"failures-{task.info.task_id}",
        {2},
    )
    return f"<h3>Failures</h3>{reasons}{runs}"


def _manual(task: TaskReport) -> str:
    def ids(values: tuple[str, ...]) -> str:
        return ", ".join(f"<code>{_e(v)}</code>" for v in values) or "none"

    if not task.manual.total:
        return ""
    return (
        "<h3>Manual interventions</h3>"
        f"<p>Stopped by hand: {ids(task.manual.stopped_by_hand)}.<br>"
        f"Re-run by hand: {ids(task.manual.rerun_by_hand)}.</p>"
    )


def _task(task: TaskReport) -> str:
    incidents = ""
    if task.incidents:
        incidents = "<h3>Incidents</h3>" + _table(
            ["Started", "Ended", "Time to recover", "Failed runs", "First failure", "Recovered by"],
            [_incident_row(i) for i in task.incidents],
            f"incidents-{task.info.task_id}",
            {2, 3},
        )
    return (
        f'<section id="task-{_e(task.info.task_id)}" data-testid="task-{_e(task.info.task_id)}">'
        f"<h2>{_task_name(task)}</h2>{_facts(task)}{_metric(task)}{incidents}"
        f"{_failures(task)}{_manual(task)}</section>"
    )


def _definitions() -> str:
    items = "".join(f"<dt>{_e(term)}</dt><dd>{_e(words)}</dd>" for term, words in text.DEFINITIONS)
    return (
        '<section data-testid="definitions"><h2>Definitions</h2>'
        f'<dl class="defs">{items}</dl></section>'
    )


def render_html(report: Report) -> str:
    idle = [t.info.task_id for t in report.tasks if not t.outcomes.runs]
    idle_note = (
        '<p class="note" data-testid="idle-tasks">'
        f"No runs in the window: {_e(', '.join(idle))}.</p>"
        if idle
        else ""
    )
    tasks = "".join(_task(t) for t in report.tasks if t.outcomes.runs)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(text.title(report))}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{_e(text.title(report))}</h1>"
        '<p class="meta" data-testid="window">'
        f"{_e(text.window(report.window, report.task_filter))}. "
        f"Generated {_e(text.moment(report.generated_at))} by VTM {_e(__version__)}.</p>"
        f"{_summary(report)}{idle_note}{tasks}{_definitions()}</main></body></html>\n"
    )
