"""Following and controlling runs in a real browser: log lines arriving, stopping a run, and a
server killed and restarted while the page stays open."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from e2e_support import (
    assert_same_document,
    expect_progress,
    mark_document,
    open_app,
    release,
    run_row,
    settle,
)
from playwright.sync_api import APIResponse, Page, Route, expect

from support import Server


def test_log_lines_arrive_while_the_run_page_is_open(
    page: Page, server: Server, gates: Path
) -> None:
    run = server.start_run(epochs=4, lines=2, gate_dir=str(gates), pause_at=2)
    server.wait_epoch(run["id"], 2)
    open_app(page, server, f"/runs/{run['id']}")
    token = mark_document(page)
    viewer = page.get_by_test_id("log-viewer")
    lines = viewer.get_by_test_id("log-line")
    # argv, env, then per epoch two numbered lines and the progress line: 8 lines so far.
    expect(viewer.get_by_test_id("log-line-count")).to_have_text("8 lines")
    expect(lines.filter(has_text="line 4")).to_have_count(1)
    expect(lines.filter(has_text="line 5")).to_have_count(0)
    expect(page.get_by_test_id("log-follow")).to_be_checked()
    # `scripted` declares no MLflow and its trainer reported no MLflow run: nothing to look up.
    expect(page.get_by_test_id("run-link-mlflow")).to_have_count(0)
    settle(page)

    release(gates, run["id"])
    expect(lines.filter(has_text="line 5")).to_be_visible()
    expect(lines.filter(has_text="line 8")).to_be_visible()
    done = lines.filter(has_text="done")
    expect(done).to_be_visible()
    expect(done).to_have_attribute("data-line", "15")  # the last one, read without a reload
    expect(viewer.get_by_test_id("log-line-count")).to_have_text("15 lines")
    expect(page.get_by_test_id("run-status").first).to_have_attribute("data-status", "completed")
    assert_same_document(page, token)
    assert server.full_log(run["id"]).decode().splitlines()[-1] == "done"


def test_stopping_a_running_run_after_confirmation(page: Page, server: Server, gates: Path) -> None:
    run = server.start_run(epochs=3, gate_dir=str(gates), pause_at=1)  # never released
    server.wait_epoch(run["id"], 1)
    open_app(page, server)
    row = run_row(page, run["id"])
    expect(row.get_by_test_id("run-status")).to_have_attribute("data-status", "running")

    row.get_by_test_id("stop-button").click()
    dialog = row.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Stop run {run['id']}?")
    expect(row.get_by_test_id("stop-cancel")).to_be_focused()  # Enter must not stop it
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert server.run(run["id"])["status"] == "running"

    row.get_by_test_id("stop-button").click()
    row.get_by_test_id("stop-confirm").click()
    expect(row.get_by_test_id("run-status")).to_have_attribute("data-status", "stopped")
    expect(row.get_by_test_id("stop-button")).to_have_count(0)
    stopped = server.run(run["id"])
    assert stopped["status"] == "stopped" and stopped["stopRequested"]

    row.get_by_role("link").first.click()  # its page says the same
    expect(page.get_by_test_id("run-id")).to_have_text(run["id"])
    expect(page.get_by_test_id("run-status").first).to_have_attribute("data-status", "stopped")


@pytest.mark.both_databases
def test_the_page_recovers_when_the_server_is_killed_and_restarted(
    page: Page, server: Server, gates: Path, vtm_home: Path, database_url: str
) -> None:
    run = server.start_run(epochs=3, sleep=0.1, gate_dir=str(gates), pause_at=1)
    server.wait_epoch(run["id"], 1)
    open_app(page, server)
    token = mark_document(page)
    indicator = page.get_by_test_id("connection-status")
    expect_progress(page, run["id"], 1, 3)

    server.kill9()
    expect(indicator).to_have_text("Reconnecting…")
    expect(indicator).to_have_attribute("data-state", "polling-fallback")
    expect_progress(page, run["id"], 1, 3)  # what it knew stays on screen

    again = Server(vtm_home, database_url, port=server.port).start()
    try:
        # The page reconnects by itself, refetches what it may have missed, and is live again.
        expect(indicator).to_have_text("Live")
        expect(indicator).to_have_attribute("data-state", "live")
        settle(page)
        release(gates, run["id"])
        expect_progress(page, run["id"], 3, 3)
        row = run_row(page, run["id"])
        expect(row.get_by_test_id("run-status")).to_have_attribute("data-status", "completed")
        assert_same_document(page, token)
        assert again.run(run["id"])["status"] == "completed"
    finally:
        again.stop()
        again.client.close()


def test_a_fetch_answered_after_a_pushed_finish_does_not_undo_it(
    page: Page, server: Server, gates: Path
) -> None:
    run = server.start_run(epochs=3, gate_dir=str(gates), pause_at=1)
    server.wait_epoch(run["id"], 1)
    open_app(page, server)
    held: list[tuple[Route, APIResponse]] = []

    def hold(route: Route) -> None:
        # The answer is taken from the server at once (the run still paused at epoch 1) and
        # handed to the page only when the test says so: a slow answer, made deterministic.
        held.append((route, route.fetch()))

    page.route(f"**/api/runs/{run['id']}", hold)
    run_row(page, run["id"]).get_by_role("link").first.click()  # its page fetches the run
    deadline = time.monotonic() + 15
    while not held:
        assert time.monotonic() < deadline, "the run page did not fetch its run"
        page.wait_for_timeout(20)  # lets Playwright run the route handler
    release(gates, run["id"])
    status = page.get_by_test_id("run-status").first
    expect(status).to_have_attribute("data-status", "completed")  # pushed by run.finished
    expect_progress(page, run["id"], 3, 3)

    route, answer = held[0]
    route.fulfill(response=answer)  # the older answer arrives now
    settle(page)
    expect(status).to_have_attribute("data-status", "completed", timeout=1000)
    expect_progress(page, run["id"], 3, 3)
