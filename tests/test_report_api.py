"""GET /api/report (JSON, HTML, Markdown) and `vtm report`, through a real `vtm serve`.

The scenario's runs are written into the server's database with the repository while it runs
(a server only schedules queued runs when a run starts or ends, and none does here). Days
D0..D4 are the five UTC days before today, so all of it lies in the default 7-day window.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from report_scenario import seed
from support import Server
from vtm.store import RunRepository, create_db_engine

MIN = 60.0


@pytest.fixture
def ids(server: Server, database_url: str) -> Iterator[dict[str, str]]:
    engine = create_db_engine(database_url)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yield seed(RunRepository(engine), today - timedelta(days=5))
    engine.dispose()


def vtm(server: Server, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    env["VTM_URL"] = server.url
    return subprocess.run(
        [sys.executable, "-m", "vtm", "report", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def by_task(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    return next(t for t in body["tasks"] if t["taskId"] == task_id)


def test_json_report(server: Server, ids: dict[str, str]) -> None:
    r = server.client.get("/api/report")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["since"] == "7d" and body["task"] is None
    s = body["summary"]
    assert s["outcomes"] == {
        "runs": 16,
        "completed": 7,
        "failed": 5,
        "stopped": 2,
        "inProgress": 2,
        "successRate": pytest.approx(7 / 12),
    }
    assert s["mttrSeconds"] == pytest.approx(110 * MIN)  # (90 + 100 + 140) / 3 min
    assert (s["incidentsRecovered"], s["incidentsOpen"], s["manualInterventions"]) == (3, 1, 6)

    a = by_task(body, "scripted")
    assert a["outcomes"]["successRate"] == pytest.approx(0.6)  # 6 / (6 + 4)
    assert [i["durationSeconds"] for i in a["incidents"]] == [90 * MIN, 100 * MIN, 140 * MIN]
    assert a["incidents"][0]["recoveredByRunId"] == ids["a4"]
    assert a["durations"] == {"count": 11, "p50Seconds": 35 * MIN, "p95Seconds": 75 * MIN}
    metric = a["primaryMetric"]
    assert (metric["best"]["runId"], metric["best"]["value"]) == (ids["a10"], 0.93)
    assert (metric["latest"]["runId"], metric["latest"]["value"]) == (ids["a11"], 0.91)
    assert [p["value"] for p in metric["trend"]] == [0.80, 0.85, 0.90, 0.88, 0.93, 0.91]
    assert a["manualInterventions"] == {
        "stoppedByHand": [ids["a5"]],
        "rerunByHand": [ids["a3"], ids["a4"], ids["a6"]],
        "total": 4,
    }
    assert a["successStreak"]["days"] == 2
    assert {(f["kind"], f["count"]) for f in a["failureReasons"]} == {
        ("exit_code", 1),
        ("signal", 1),
        ("timeout", 1),
    } and len(a["failureReasons"]) == 4

    b = by_task(body, "noisy")
    (incident,) = b["incidents"]
    assert incident["open"] and incident["durationSeconds"] is None
    assert b["mttrSeconds"] is None
    assert b["failures"][0]["kind"] == "supervisor_lost"


def test_filters_and_bad_parameters(server: Server, ids: dict[str, str]) -> None:
    only = server.client.get("/api/report", params={"task": "noisy", "since": "30d"}).json()
    assert [t["taskId"] for t in only["tasks"]] == ["noisy"]
    assert only["summary"]["outcomes"]["runs"] == 3

    # the newest run was created yesterday at 04:40 UTC: nothing in the last 12 hours
    recent = server.client.get("/api/report", params={"since": "12h"}).json()
    assert recent["summary"]["outcomes"]["runs"] == 0
    assert by_task(recent, "scripted")["outcomes"]["runs"] == 0

    bad = server.client.get("/api/report.html", params={"since": "a week"})
    assert bad.status_code == 422
    assert [f["field"] for f in bad.json()["error"]["fields"]] == ["since"]
    unknown = server.client.get("/api/report.md", params={"task": "nope"})
    assert unknown.status_code == 404
    assert "nope" in unknown.json()["error"]["message"]


def test_html_and_markdown_renderings(server: Server, ids: dict[str, str]) -> None:
    page = server.client.get("/api/report.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.count("<svg") == 3  # runs per day; the two tasks' metric trends
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert '<div class="value" data-testid="summary-mttr-value">1 h 50 min</div>' in html

    md = server.client.get("/api/report.md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert "**MTTR:** 1 h 50 min" in md.text
    assert "| scripted | 13 | 60.0% | 4 | 1 h 50 min | 0 | 35 min | 1 h 15 min | 0.93 | 0.91 |" in (
        md.text
    )


def test_cli_writes_html_and_markdown(server: Server, ids: dict[str, str], tmp_path: Path) -> None:
    html = vtm(server, "--out", "out/report.html", cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 3

    md = vtm(server, "--task", "scripted", "--out", str(tmp_path / "report.md"))
    assert md.returncode == 0, md.stderr
    text = (tmp_path / "report.md").read_text()
    assert text.startswith("# VTM quality report: scripted")
    assert "<svg" not in text and "- MTTR: 1 h 50 min" in text

    printed = vtm(server, "--since", "30d")  # no --out: Markdown on stdout
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith("# VTM quality report") and "58.3%" in printed.stdout

    as_json = vtm(server, "--format", "json", "--out", str(tmp_path / "report.txt"))
    assert as_json.returncode == 0, as_json.stderr
    assert '"successRate"' in (tmp_path / "report.txt").read_text()

    bad = vtm(server, "--since", "soon")
    assert bad.returncode == 2 and "since:" in bad.stderr
    unknown = vtm(server, "--task", "nope")
    assert unknown.returncode == 2 and "unknown task 'nope'" in unknown.stderr
    odd = vtm(server, "--out", str(tmp_path / "report.pdf"))
    assert odd.returncode == 2 and "--format" in odd.stderr


def test_the_report_wants_the_token(vtm_home: Path, database_url: str) -> None:
    server = Server(vtm_home, database_url, VTM_TOKEN="report-token").start()
    try:
        for path in ("/api/report", "/api/report.html", "/api/report.md"):
            assert server.client.get(path).status_code == 401
        # a browser opening the page passes the token in the query, as the event stream does
        page = server.client.get("/api/report.html", params={"token": "report-token"})
        assert page.status_code == 200 and "<h1>VTM quality report</h1>" in page.text
        denied = vtm(server, "--since", "1d")
        assert denied.returncode == 2
        allowed = vtm(server, "--since", "1d", "--token", "report-token")
        assert allowed.returncode == 0 and "report-token" not in allowed.stdout + allowed.stderr
    finally:
        server.stop()
        server.client.close()
