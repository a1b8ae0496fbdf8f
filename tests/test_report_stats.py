"""The quality report's numbers from a real store (SQLite and PostgreSQL), checked against
values computed by hand from tests/report_scenario.py (its table shows every run)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from report_scenario import LOST, seed
from support import TEST_CATALOG
from vtm.catalog import Catalog, load_catalog
from vtm.errors import InvalidRequest, NotFound
from vtm.report import (
    Report,
    ReportRun,
    TaskInfo,
    TaskReport,
    build_report,
    make_report,
    render_html,
    render_markdown,
    window_for,
)
from vtm.report.stats import failure_kind, percentile
from vtm.states import RunStatus
from vtm.store import RunRepository, create_db_engine, migrate
from vtm.supervisor.program_watch import describe

BASE = datetime(2026, 11, 20, tzinfo=UTC)  # D0
NOW = datetime(2026, 11, 25, tzinfo=UTC)  # D5 00:00, after every run of the scenario
MIN = 60.0


@pytest.fixture
def repo(database_url: str) -> Iterator[RunRepository]:
    engine = create_db_engine(database_url)
    migrate(engine)
    yield RunRepository(engine)
    engine.dispose()


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog(TEST_CATALOG).catalog


@pytest.fixture
def ids(repo: RunRepository) -> dict[str, str]:
    return seed(repo, BASE)


def task(report: Report, task_id: str) -> TaskReport:
    return next(t for t in report.tasks if t.info.task_id == task_id)


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    # ranks 0..3; p95 → rank 2.85 → 3 + 0.85 * (4 - 3)
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.95) == pytest.approx(3.85)
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)


def test_counts_success_rate_and_failures(
    repo: RunRepository, catalog: Catalog, ids: dict[str, str]
) -> None:
    report = make_report(repo, catalog, since="7d", now=NOW)
    a = task(report, "scripted")
    o = a.outcomes
    # a1..a13: completed a1 a4 a6 a8 a10 a11; failed a2 a3 a7 a9; stopped a5; a12 a13 in progress
    assert (o.runs, o.completed, o.failed, o.stopped, o.in_progress) == (13, 6, 4, 1, 2)
    assert o.success_rate == pytest.approx(6 / 10)  # stopped and in-progress runs left out
    # newest first, each with the reason VTM recorded and its kind
    assert [(f.run_id, f.kind, f.reason, f.exit_code) for f in a.failures] == [
        (ids["a9"], "exit_code", "exited with code 2", 2),
        (ids["a7"], "signal", "killed by signal SIGKILL", -9),
        (ids["a3"], "timeout", "timed out after 1800 s", -15),
        (ids["a2"], "exit_code", "exited with code 1", 1),
    ]
    assert [(r.kind, r.reason, r.count) for r in a.reasons] == [
        ("exit_code", "exited with code 1", 1),
        ("exit_code", "exited with code 2", 1),
        ("signal", "killed by signal SIGKILL", 1),
        ("timeout", "timed out after 1800 s", 1),
    ]

    b = task(report, "noisy")
    assert (b.outcomes.runs, b.outcomes.completed, b.outcomes.failed, b.outcomes.stopped) == (
        3,
        1,
        1,
        1,
    )
    assert b.outcomes.success_rate == pytest.approx(1 / 2)
    assert [(f.run_id, f.kind, f.reason) for f in b.failures] == [
        (ids["b2"], "supervisor_lost", LOST)
    ]

    # catalog tasks without runs are in the report, with none
    idle = task(report, "stubborn")
    assert (idle.outcomes.runs, idle.mttr_seconds, idle.metric and idle.metric.best) == (
        0,
        None,
        None,
    )
    s = report.summary
    assert s.tasks == len(catalog.tasks)  # every catalog task, with runs or not
    o = s.outcomes
    assert (o.runs, o.completed, o.failed, o.stopped, o.in_progress) == (16, 7, 5, 2, 2)
    assert o.success_rate == pytest.approx(7 / 12)


def test_mttr_incidents_and_open_incidents(
    repo: RunRepository, catalog: Catalog, ids: dict[str, str]
) -> None:
    report = make_report(repo, catalog, since="7d", now=NOW)
    a = task(report, "scripted")
    assert [
        (i.first_failed_run_id, i.failed_runs, i.recovered_by_run_id, i.duration_seconds)
        for i in a.incidents
    ] == [
        (ids["a2"], 2, ids["a4"], 90 * MIN),  # a2 failed D0 02:10, a4 completed 03:40 → 90 min
        (ids["a7"], 1, ids["a8"], 100 * MIN),  # a7 failed D2 05:05, a8 completed 06:45 → 100 min
        (ids["a9"], 1, ids["a10"], 140 * MIN),  # a9 failed D2 23:30, a10 completed D3 01:50 → 140
    ]
    assert a.incidents[0].started_at == datetime(2026, 11, 20, 2, 10, tzinfo=UTC)
    assert a.incidents[0].ended_at == datetime(2026, 11, 20, 3, 40, tzinfo=UTC)
    assert a.mttr_seconds == pytest.approx((90 + 100 + 140) / 3 * MIN)  # 110 min

    b = task(report, "noisy")
    (open_incident,) = b.incidents
    assert open_incident.is_open and open_incident.recovered_by_run_id is None
    assert open_incident.first_failed_run_id == ids["b2"]
    assert open_incident.duration_seconds is None
    assert open_incident.open_for_seconds == 19.5 * 3600  # b2 failed D4 04:30; now D5 00:00
    assert b.mttr_seconds is None  # an open incident is listed, never averaged

    s = report.summary
    assert s.mttr_seconds == pytest.approx(110 * MIN)  # the three recovered incidents of A
    assert (s.incidents_recovered, s.incidents_open) == (3, 1)


def test_durations_metric_interventions_and_streak(
    repo: RunRepository, catalog: Catalog, ids: dict[str, str]
) -> None:
    report = make_report(repo, catalog, since="7d", now=NOW)
    a = task(report, "scripted")
    # finished runs that started, minutes: 5 10 20 30 30 35 40 45 50 60 90 (n = 11)
    # p50: rank 5 → 35; p95: rank 9.5 → 60 + 0.5 * (90 - 60) = 75
    assert a.durations.count == 11
    assert a.durations.p50_seconds == pytest.approx(35 * MIN)
    assert a.durations.p95_seconds == pytest.approx(75 * MIN)

    m = a.metric
    assert m is not None and (m.name, m.goal) == ("val_accuracy", "max")
    # completed runs' last points: a1 .80 a4 .85 a6 .90 a8 .88 a10 .93 a11 .91 (a3's .97 failed,
    # a11's earlier .95 is not its last point)
    assert [(p.run_id, p.value) for p in m.trend] == [
        (ids["a1"], 0.80),
        (ids["a4"], 0.85),
        (ids["a6"], 0.90),
        (ids["a8"], 0.88),
        (ids["a10"], 0.93),
        (ids["a11"], 0.91),
    ]
    assert m.best is not None and (m.best.run_id, m.best.value) == (ids["a10"], 0.93)
    assert m.latest is not None and (m.latest.run_id, m.latest.value) == (ids["a11"], 0.91)

    # a5 stopped by hand; a3 re-runs a2, a4 re-runs a3 (same fields F1), a6 re-runs stopped a5
    assert a.manual.stopped_by_hand == (ids["a5"],)
    assert a.manual.rerun_by_hand == (ids["a3"], ids["a4"], ids["a6"])
    # D4 last a11 completed, D3 last a10 completed, D2 last a9 failed → 2 days
    assert (a.streak.days, a.streak.latest_day) == (2, date(2026, 11, 24))

    b = task(report, "noisy")
    # b1 20 min, b2 30 min (b3 never started): p50 25; p95 20 + 0.95 * 10 = 29.5
    assert (b.durations.count, b.durations.p50_seconds) == (2, 25 * MIN)
    assert b.durations.p95_seconds == pytest.approx(29.5 * MIN)
    assert b.metric is not None and b.metric.best is not None and b.metric.latest is not None
    assert b.metric.best.value == b.metric.latest.value == 0.50
    # b3: a re-run of failed b2 with the same fields, then stopped by hand before it started
    assert (b.manual.stopped_by_hand, b.manual.rerun_by_hand) == ((ids["b3"],), (ids["b3"],))
    assert (b.streak.days, b.streak.latest_day) == (0, date(2026, 11, 24))  # D4 ended stopped

    s = report.summary
    assert (s.stopped_by_hand, s.rerun_by_hand, s.manual_interventions) == (2, 4, 6)
    days = {d.day: (d.completed, d.failed, d.stopped) for d in s.days}
    assert days[date(2026, 11, 20)] == (2, 2, 0)  # a1 a4 / a2 a3
    assert days[date(2026, 11, 24)] == (1, 1, 1)  # a11 / b2 / b3
    assert days[date(2026, 11, 18)] == (0, 0, 0)  # the window starts NOW - 7 d
    assert len(s.days) == 8  # 11-18 .. 11-25


def test_the_window_and_the_task_filter(
    repo: RunRepository, catalog: Catalog, ids: dict[str, str]
) -> None:
    # since 2d from D5 00:00: runs created from D3 00:00 on: a10 a11 a12 a13, b1 b2 b3
    recent = make_report(repo, catalog, since="2d", now=NOW)
    a = task(recent, "scripted")
    assert (a.outcomes.runs, a.outcomes.completed, a.outcomes.in_progress) == (4, 2, 2)
    assert a.incidents == () and a.mttr_seconds is None
    assert a.manual.total == 0  # a10's predecessor a9 is outside the window
    assert a.streak.days == 2
    assert recent.summary.outcomes.runs == 7

    only = make_report(repo, catalog, since="7d", task="noisy", now=NOW)
    assert [t.info.task_id for t in only.tasks] == ["noisy"]
    assert only.task_filter == "noisy"
    assert only.summary.outcomes.runs == 3

    idle = make_report(repo, catalog, task="stubborn", now=NOW)
    assert [(t.info.task_id, t.outcomes.runs) for t in idle.tasks] == [("stubborn", 0)]

    with pytest.raises(NotFound, match="nope"):
        make_report(repo, catalog, task="nope", now=NOW)
    with pytest.raises(InvalidRequest) as bad:
        make_report(repo, catalog, since="a week", now=NOW)
    assert [e.field for e in bad.value.errors] == ["since"]


def test_a_task_no_longer_in_the_catalog_is_still_reported(
    repo: RunRepository, ids: dict[str, str]
) -> None:
    report = make_report(repo, None, since="7d", now=NOW)  # no catalog: no primary metrics
    a = task(report, "scripted")
    assert not a.info.in_catalog and a.metric is None
    assert a.mttr_seconds == pytest.approx(110 * MIN)
    assert make_report(repo, None, task="noisy", now=NOW).summary.outcomes.runs == 3


def test_renderings_show_the_same_numbers(
    repo: RunRepository, catalog: Catalog, ids: dict[str, str]
) -> None:
    report = make_report(repo, catalog, since="7d", now=NOW)
    page = render_html(report)
    markdown = render_markdown(report)
    for text in (page, markdown):
        assert "58.3%" in text  # 7 / 12
        assert "1 h 50 min" in text  # MTTR 110 min
        assert "1 h 15 min" in text  # A's p95, 75 min
        assert "0.93" in text and "0.91" in text
        assert ids["a9"] in text and "timed out after 1800 s" in text
        assert "19 h 30 min" in text  # B's open incident so far
    assert page.count("<svg") == 3  # outcomes per day, A's and B's metric trends
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<svg" not in markdown and "](" not in markdown  # no charts, no links
    assert "▁" in markdown and "█" in markdown  # A's trend as text


def test_charts_render_from_several_threads_at_once() -> None:
    # the API renders in its thread pool: figures must not share state between threads
    runs = [
        ReportRun(
            id=f"20261120-0{n}0000-00000{n}",
            seq=n,
            task_id=task_id,
            status=RunStatus.COMPLETED,
            fields={},
            created_at=BASE + timedelta(hours=n),
            started_at=BASE + timedelta(hours=n),
            finished_at=BASE + timedelta(hours=n, minutes=30),
            exit_code=0,
            error=None,
            stop_requested=False,
            metric=0.5 + n / 10,
        )
        for n, task_id in enumerate(["t1", "t2", "t1", "t2"], start=1)
    ]
    tasks = [TaskInfo(t, None, "acc") for t in ("t1", "t2")]
    report = build_report(tasks, runs, window_for("1d", BASE + timedelta(hours=6)))
    with ThreadPoolExecutor(3) as pool:
        pages = list(pool.map(lambda _: render_html(report), range(3)))
    assert all(page.count("<svg") == 3 and page.count("</svg>") == 3 for page in pages)


def test_run_text_is_escaped_in_both_renderings() -> None:
    evil = "boom <script>alert(1)</script> | *x* [y](z)"
    runs = [
        ReportRun(
            id="20261120-010000-000001",
            seq=1,
            task_id="t",
            status=RunStatus.FAILED,
            fields={},
            created_at=BASE,
            started_at=BASE,
            finished_at=BASE + timedelta(minutes=1),
            exit_code=3,
            error=evil,
            stop_requested=False,
        )
    ]
    report = build_report([], runs, window_for("1d", BASE + timedelta(hours=1)))
    page, markdown = render_html(report), render_markdown(report)
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\<script\\>" in markdown and "\\| \\*x\\* \\[y\\](z)" in markdown
    (t,) = report.tasks
    assert not t.info.in_catalog and t.failures[0].kind == "other"


def test_failure_kinds_follow_the_reasons_vtm_records() -> None:
    # the texts the supervisor, the run monitor and the run service write into run.error
    assert failure_kind(describe(3, None)[1], 3) == "exit_code"
    assert failure_kind(describe(-9, None)[1], -9) == "signal"
    # led by the cause the trainer's output showed (runs/failure.py)
    assert failure_kind("ValueError: bad (label) (exited with code 1)", 1) == "exit_code"
    segfault = "Fatal Python error: Segmentation fault (killed by signal SIGSEGV)"
    assert failure_kind(segfault, -11) == "signal"
    assert failure_kind("timed out after 30 s", -15) == "timeout"
    assert failure_kind(LOST + "; killed 2 leftover process(es) of the run", None) == (
        "supervisor_lost"
    )
    assert failure_kind("could not launch: [Errno 2] No such file", None) == "launch"
    assert failure_kind("the supervisor did not start within 30 s", None) == "launch"
    assert failure_kind(None, 4) == "exit_code"
    assert failure_kind(None, None) == "other"


def test_gpu_use_counts_gpu_hours_to_the_windows_end_energy_where_measured_and_cost() -> None:
    def run(n: int, gpus: int, hours: float | None, energy: float | None) -> ReportRun:
        start = BASE + timedelta(hours=n)
        return ReportRun(
            id=f"r{n}",
            seq=n,
            task_id="train",
            status=RunStatus.COMPLETED if hours is not None else RunStatus.RUNNING,
            fields={},
            created_at=start,
            started_at=start,
            finished_at=start + timedelta(hours=hours) if hours is not None else None,
            exit_code=0 if hours is not None else None,
            error=None,
            stop_requested=False,
            gpus=gpus,
            energy_wh=energy,
        )

    window = window_for("7d", NOW)
    runs = [
        run(0, 2, 1.5, 300.0),  # 3 GPU-hours
        run(1, 1, 0.5, None),  # 0.5: its GPU had no energy counter
        run(2, 0, 2.0, None),  # no GPU: no GPU-hours
        run(100, 1, None, None),  # still going at NOW: 20 hours so far (started D4 04:00)
    ]
    report = build_report([TaskInfo("train", None, None)], runs, window, gpu_hour_cost=2.0)
    use = report.tasks[0].gpu
    assert use.gpu_hours == pytest.approx(3 + 0.5 + 20)
    assert (use.gpu_runs, use.energy_wh, use.measured_runs) == (3, 300.0, 1)
    assert use.cost == pytest.approx(23.5 * 2.0)
    assert report.summary.gpu == use
    assert (
        "GPU use: 23.50 (3 runs) GPU-hours, energy 300.0 Wh (1 of 3 runs measured), cost 47.00"
        in (render_markdown(report))
    )
    unpriced = build_report([TaskInfo("train", None, None)], runs, window)
    assert unpriced.tasks[0].gpu.cost is None
