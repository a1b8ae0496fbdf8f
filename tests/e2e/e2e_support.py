"""Helpers the end-to-end tests share: opening the app, proving a page never reloaded,
recording what a progress bar showed, and the scripted trainer's gates."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import Locator, Page, ViewportSize, expect

from support import Server

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
# Assertions and actions wait up to this long: the slowest wait in these tests is a trainer's
# few epochs on a machine running the whole suite beside them (Airflow, a Ray cluster, the
# framework trainers: 15 s was missed twice so on 2026-12-03). A deadline, never a pause.
DEADLINE_MS = 30_000

# Counts the page's fetches until their bodies have arrived, so that a test can wait until the
# app has nothing in flight (`settle`). The event stream is not a fetch.
TRACK_FETCHES = """(() => {
  const fetch0 = window.fetch.bind(window);
  const state = { inflight: 0, lastDone: 0 };
  window.__vtmFetches = state;
  const done = () => { state.inflight -= 1; state.lastDone = performance.now(); };
  window.fetch = (...args) => {
    state.inflight += 1;
    return fetch0(...args).then(
      (response) => { response.clone().arrayBuffer().then(done, done); return response; },
      (error) => { done(); throw error; },
    );
  };
})();"""

# Records every aria-valuenow a run's progress bar shows, wherever the bar is (re)mounted: a
# row moving from "Running" to "Recently finished" is a new element.
_WATCH_PROGRESS = """runId => {
  const seen = (window.__vtmProgress ??= {});
  const values = (seen[runId] = []);
  const selector = `[data-testid="progress-${runId}"]`;
  const record = () => {
    const bar = document.querySelector(selector);
    const value = bar === null ? null : bar.getAttribute("aria-valuenow");
    if (value !== null && values.at(-1) !== Number(value)) values.push(Number(value));
  };
  record();
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"],
  });
}"""


def open_app(page: Page, server: Server, path: str = "/") -> None:
    """Load the app at ``path``; wait until its event stream is live and its fetches are done."""
    page.goto(server.url + path)
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    settle(page)


def mark_document(page: Page) -> str:
    """Leave a token in this document; only a reload (a new document) loses it."""
    token = uuid.uuid4().hex
    page.evaluate("token => { window.__vtmE2eMark = token; }", token)
    return token


def assert_same_document(page: Page, token: str) -> None:
    assert page.evaluate("() => window.__vtmE2eMark ?? null") == token, "the page was reloaded"


def watch_progress(page: Page, run_id: str) -> None:
    page.evaluate(_WATCH_PROGRESS, run_id)


def progress_seen(page: Page, run_id: str) -> list[int]:
    values: list[int] = page.evaluate("runId => window.__vtmProgress[runId]", run_id)
    return values


def run_row(scope: Page | Locator, run_id: str) -> Locator:
    """A run's row: on the live page (either list) or in the history table."""
    return scope.get_by_test_id(f"run-row-{run_id}")


def progress_bar(page: Page, run_id: str) -> Locator:
    return page.get_by_test_id(f"progress-{run_id}")


def expect_progress(page: Page, run_id: str, epoch: int, total: int) -> None:
    bar = progress_bar(page, run_id)
    expect(bar).to_have_attribute("role", "progressbar")
    expect(bar).to_have_attribute("aria-valuemax", str(total))
    expect(bar).to_have_attribute("aria-valuenow", str(epoch))


def release(gates: Path, run_id: str) -> None:
    """Let a scripted trainer paused at its `pause_at` epoch go on."""
    (gates / run_id).touch()


def settle(page: Page, quiet_ms: int = 150) -> None:
    """Wait until the page has had no fetch in flight for ``quiet_ms``.

    A list or run fetch answered after a pushed event overwrites that newer event (see
    test_e2e_runs.test_a_refetch_answered_after_a_pushed_finish_does_not_undo_it), so the
    tests let the page's own fetches finish before a trainer moves on.
    """
    page.wait_for_function(
        """quiet => {
          const f = window.__vtmFetches;
          return f.inflight === 0 && performance.now() - f.lastDone >= quiet;
        }""",
        arg=quiet_ms,
    )
