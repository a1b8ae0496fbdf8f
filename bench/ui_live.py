"""Web UI, live page: with 10,000 runs stored and 20 running, how long the live page takes to
show all 20 progress bars, and how long after a trainer prints a progress line its bar in the
browser shows it.

The database is filled before the server starts (``api_list.populate``: 10,000 finished runs
with metrics). Then 20 runs of ``catalog/trainers/progress.py`` start behind one gate file;
once all are running the gate opens and each prints a progress line every ``INTERVAL`` s
carrying ``sent_at``, its ``time.time()`` when printed (output.log keeps them all).

Debian's Chromium (headless, driven by Playwright; never a downloaded browser) opens the live
page. A script installed before the page's own records, in the page:

- first render: ``performance.now()`` (milliseconds since navigation start) when all 20 bars
  (``role=progressbar`` in the running list) are in the DOM, and when all 20 show an epoch;
  ``LOADS`` fresh browser contexts (nothing cached) in turn;
- latency: a MutationObserver notes ``Date.now()`` at every change of a bar's
  ``aria-valuenow``; latency = that time - the line's ``sent_at`` (the browser and the trainers
  read the same machine clock). "Per update" counts each value a bar showed (the target);
  "per line" counts every printed line, up to the first update showing it or a later one
  (lines superseded within one read of the log never show on their own);
- baseline: ``Date.now()`` when the page's event stream delivered the same ``run.updated``
  (a listener registered before the app's), i.e. what is left to the page itself.

The DOM change is what is timed; the browser paints it at its next frame (≤ 16.7 ms at 60 Hz).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from vtm_testkit import chromium, wait_for

from bench.api_list import populate
from bench.common import ForeignLoad, Home, Result, Server, ms, summary

NAME = "ui"
TARGET_P95 = 0.250
RUNNING = 20
INTERVAL = 0.2  # seconds between one trainer's progress lines: 100 lines/s for 20 runs
LOADS = 5
CHROMIUM = chromium.binary("VTM_BENCH_CHROMIUM")
CHROMIUM_ARGS = list(chromium.ARGS)

# Runs before any of the page's scripts (Playwright's init script), in every document.
PROBE = """(() => {
  const expected = __EXPECTED__;
  const bench = (window.__bench = { bars: null, valued: null, updates: [], events: [] });
  const check = () => {
    if (bench.valued !== null) return;
    const bars = document.querySelectorAll('[data-testid="active-runs"] [role="progressbar"]');
    if (bench.bars === null && bars.length >= expected) bench.bars = performance.now();
    const valued = [...bars].filter((bar) => bar.hasAttribute("aria-valuenow")).length;
    if (valued >= expected) bench.valued = performance.now();
  };
  new MutationObserver((mutations) => {
    const now = Date.now();
    for (const m of mutations) {
      if (m.type !== "attributes") continue;
      const value = m.target.getAttribute("aria-valuenow");
      const id = (m.target.dataset.testid ?? "").replace(/^progress-/, "");
      if (value !== null && m.target.getAttribute("role") === "progressbar") {
        bench.updates.push([id, Number(value), now]);
      }
    }
    check();
  }).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"],
  });
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("run.updated", (event) => {
        const now = Date.now();
        const run = JSON.parse(event.data);
        bench.events.push([run.id, run.progress?.epoch ?? null, now]);
      });
    }
  };
})();"""


def _sent_times(log: Path) -> dict[int, float]:
    """epoch → sent_at of every progress line in a run's output.log."""
    sent: dict[int, float] = {}
    for line in log.read_text().splitlines():
        if line.startswith("VTM_PROGRESS::"):
            message = json.loads(line.removeprefix("VTM_PROGRESS::"))
            sent[message["epoch"]] = message["sent_at"]
    return sent


def _latencies(
    records: list[list[Any]], sent: dict[str, dict[int, float]], since: float, until: float
) -> tuple[list[float], list[float]]:
    """(per update, per line) latencies in seconds of the DOM or event ``records`` (run id,
    epoch, Date.now() in ms) for lines printed within [since, until]."""
    shown: dict[str, list[tuple[int, float]]] = {}
    for run_id, epoch, at_ms in records:
        if run_id in sent and epoch is not None:
            shown.setdefault(run_id, []).append((int(epoch), at_ms / 1000))
    per_update: list[float] = []
    per_line: list[float] = []
    for run_id, seen in shown.items():
        first: dict[int, float] = {}
        for epoch, at in seen:
            first.setdefault(epoch, at)
        for epoch, at in first.items():
            sent_at = sent[run_id].get(epoch)
            if sent_at is not None and since <= sent_at <= until:
                per_update.append(at - sent_at)
        for epoch, sent_at in sent[run_id].items():
            if not since <= sent_at <= until:
                continue
            later = [at for e, at in first.items() if e >= epoch and at >= sent_at]
            if later:
                per_line.append(min(later) - sent_at)
    return per_update, per_line


def _in_page(
    updates: list[list[Any]],
    events: list[list[Any]],
    sent: dict[str, dict[int, float]],
    since: float,
    until: float,
) -> list[float]:
    """Per bar update: its time - the arrival of the event that carried that epoch (s)."""
    arrived: dict[tuple[str, int], float] = {}
    for run_id, epoch, at_ms in events:
        if epoch is not None:
            arrived.setdefault((run_id, int(epoch)), at_ms / 1000)
    shares: list[float] = []
    done: set[tuple[str, int]] = set()
    for run_id, epoch, at_ms in updates:
        key = (run_id, int(epoch))
        sent_at = sent.get(run_id, {}).get(key[1])
        if key in done or key not in arrived or sent_at is None or not since <= sent_at <= until:
            continue
        done.add(key)
        shares.append(at_ms / 1000 - arrived[key])
    return shares


def run(quick: bool) -> Result:
    # Imported here so the other benchmarks run where Playwright is not installed.
    from playwright.sync_api import sync_playwright

    stored, running, window = (2000, 5, 5.0) if quick else (10_000, RUNNING, 15.0)
    count = int((LOADS * 3 + window + 25) / INTERVAL)  # lines enough to outlast the measuring
    result = Result(NAME)
    with Home(NAME) as home:
        fill = populate(f"sqlite:///{home / 'vtm.db'}", stored)
        gate = home / "gate"
        env = {"VTM_MAX_CONCURRENT_RUNS": str(running + 4)}
        with Server(home, None, **env) as server, ForeignLoad() as load:
            ids = [
                server.start_run("progress", count=count, interval=INTERVAL, gate=str(gate))["id"]
                for _ in range(running)
            ]
            wait_for(
                lambda: all(server.run(i)["status"] == "running" for i in ids) or None,
                f"{running} runs to be running",
            )
            gate.touch()
            wait_for(
                lambda: all(server.run(i)["progress"].get("epoch", 0) >= 3 for i in ids) or None,
                "every run to report",
            )
            probe = PROBE.replace("__EXPECTED__", str(running))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    renders: list[dict[str, float]] = []
                    for _ in range(LOADS):
                        context = browser.new_context(viewport={"width": 1280, "height": 900})
                        context.add_init_script(script=probe)
                        page = context.new_page()
                        page.goto(server.url + "/")
                        page.wait_for_function("() => window.__bench.valued !== null")
                        renders.append(page.evaluate("() => window.__bench"))
                        context.close()
                    # The latency page: the last load stays open while the runs go on.
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    context.add_init_script(script=probe)
                    page = context.new_page()
                    page.goto(server.url + "/")
                    page.wait_for_function("() => window.__bench.valued !== null")
                    page.wait_for_timeout(2000)  # warm-up: the page settles before counting
                    since = time.time()
                    page.wait_for_timeout(window * 1000)
                    until = time.time()
                    page.wait_for_timeout(1000)  # the last lines' updates arrive
                    seen = page.evaluate("() => window.__bench")
                    context.close()
                finally:
                    browser.close()
        sent = {i: _sent_times(home / "runs" / i / "output.log") for i in ids}
    dom_update, dom_line = _latencies(seen["updates"], sent, since, until)
    event_update, _ = _latencies(seen["events"], sent, since, until)
    in_page = _in_page(seen["updates"], seen["events"], sent, since, until)
    bars = summary([r["bars"] / 1000 for r in renders])
    valued = summary([r["valued"] / 1000 for r in renders])
    upd, line, ev = summary(dom_update), summary(dom_line), summary(event_update)
    page_share = summary(in_page)
    result.row(
        f"UI live page first render ({stored:,} stored, {running} running)",
        f"p50 {ms(bars['p50'])}",
        "",
        f"all {running} bars: p50 {ms(bars['p50'])}, max {ms(bars['max'])}; "
        f"with epochs: p50 {ms(valued['p50'])}, max {ms(valued['max'])} ({LOADS} loads)",
    )
    result.row(
        "UI progress line -> bar, p95 (per update)",
        ms(upd["p95"]),
        f"p95 {ms(ev['p95'])} (its event at the page)",
        f"p50 {ms(upd['p50'])}, p95 {ms(upd['p95'])}, max {ms(upd['max'])}; "
        f"event -> bar p50 {ms(page_share['p50'])}, p95 {ms(page_share['p95'])}",
        "p95 <= 250 ms",
        upd["p95"] <= TARGET_P95,
    )
    result.row(
        "UI progress line -> bar, p95 (every line)",
        ms(line["p95"]),
        "",
        f"p50 {ms(line['p50'])}, p95 {ms(line['p95'])}, max {ms(line['max'])}",
    )
    result.details.update(
        stored=stored,
        running=running,
        interval_s=INTERVAL,
        window_s=window,
        populate_s=round(fill, 2),
        first_render_bars_s=bars,
        first_render_with_epochs_s=valued,
        per_update=upd,
        per_line=line,
        event_at_page=ev,
        event_to_bar=page_share,
        samples={
            "first_render_bars": [r["bars"] for r in renders],
            "per_update": dom_update,
            "per_line": dom_line,
            "event_at_page": event_update,
            "event_to_bar": in_page,
        },
        load=load.describe(),
    )
    return result
