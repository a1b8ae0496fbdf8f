"""The launch form in a real browser against a real server: starting a run and watching it,
the server's own 422 messages at their fields, and "Re-run with changes"."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from e2e_support import (
    assert_same_document,
    expect_progress,
    mark_document,
    open_app,
    release,
    run_row,
    settle,
    watch_progress,
)
from e2e_support import progress_seen as seen
from playwright.sync_api import Page, expect

from support import TESTS, Server

RUN_URL = re.compile(r"/runs/([0-9A-Za-z-]+)$")


def launched_run_id(page: Page) -> str:
    """The id of the run the form just started: the form goes to the run's page."""
    page.wait_for_url(RUN_URL)
    match = RUN_URL.search(page.url)
    assert match is not None
    run_id = match.group(1)
    expect(page.get_by_test_id("run-id")).to_have_text(run_id)
    return run_id


def test_a_run_started_from_the_form_progresses_to_100_percent_without_a_reload(
    page: Page, server: Server, gates: Path
) -> None:
    open_app(page, server)
    token = mark_document(page)
    page.get_by_test_id("nav-launch").click()
    page.get_by_test_id("task-scripted").click()
    form = page.get_by_test_id("launch-form")
    form.get_by_test_id("field-epochs").fill("5")
    form.get_by_test_id("field-sleep").fill("0.2")
    # The trainer waits after epoch 2 until the test lets it go: the bar is seen mid-way.
    form.get_by_test_id("field-gate_dir").fill(str(gates))
    form.get_by_test_id("field-pause_at").fill("2")
    # Emptied, a number field says it will be the default rather than nothing.
    hint = form.get_by_test_id("field-default-hint-lr")
    expect(hint).to_have_count(0)
    form.get_by_test_id("field-lr").fill("")
    expect(hint).to_be_visible()
    expect(hint).to_have_text("empty: uses the default 0.1")
    form.get_by_test_id("launch-submit").click()

    run_id = launched_run_id(page)
    expect_progress(page, run_id, 2, 5)  # the run's own page
    page.get_by_test_id("nav-live").click()
    row = run_row(page, run_id)
    expect(row.get_by_test_id("run-status")).to_have_attribute("data-status", "running")
    expect_progress(page, run_id, 2, 5)
    expect(page.get_by_test_id(f"progress-text-{run_id}")).to_contain_text("2 / 5 · 40%")
    watch_progress(page, run_id)
    settle(page)
    track = page.get_by_test_id(f"progress-{run_id}").bounding_box()

    release(gates, run_id)
    expect_progress(page, run_id, 5, 5)
    expect(page.get_by_test_id(f"progress-text-{run_id}")).to_contain_text("5 / 5 · 100%")
    # The label changed ("… · ETA 1s" went); the bar's track kept its width.
    after = page.get_by_test_id(f"progress-{run_id}").bounding_box()
    assert track is not None and after is not None and track["width"] > 100, track
    assert after["width"] == track["width"], (track, after)
    expect(row.get_by_test_id("run-status")).to_have_attribute("data-status", "completed")
    # It moved there epoch by epoch (each 0.2 s apart), on the page as it was first loaded.
    values = seen(page, run_id)
    assert values[0] == 2 and values[-1] == 5 and values == sorted(values), values
    assert {3, 4} & set(values), f"no intermediate epoch was shown: {values}"
    assert_same_document(page, token)
    assert server.run(run_id)["fields"]["epochs"] == 5
    assert server.run(run_id)["fields"]["lr"] == 0.1  # the default, as the hint said


# A field whose bound lies beyond 2^53: the form reads the typed digits as a JS number, which
# rounds 2^53 + 1 down to 2^53, so its own range check passes; the server compares exact
# integers and refuses. So the message at the field can only be the server's.
BIG_BOUND_CATALOG = """\
version: 1
baseTaskTypes:
  classification:
    primaryMetric: {name: val_accuracy, goal: max}
    fields:
      epochs: {type: int, default: 1, min: 1, max: 1000}
tasks:
  scripted:
    title: Scripted trainer
    baseTaskType: classification
    runner: {target: scripted.py}
    extraFields:
      lines: {type: int, default: 1, min: 0, max: 9007199254740992}
"""
TOO_BIG = "9007199254740993"  # 2**53 + 1


def test_the_servers_422_message_is_shown_at_its_field(
    page: Page, vtm_home: Path, database_url: str, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog" / "catalog.yaml"
    catalog.parent.mkdir()
    catalog.write_text(BIG_BOUND_CATALOG)
    shutil.copy(TESTS / "trainers" / "scripted.py", catalog.parent)
    server = Server(vtm_home, database_url, catalog=catalog).start()
    try:
        open_app(page, server, "/launch/scripted")
        page.get_by_test_id("field-lines").fill(TOO_BIG)
        with page.expect_response(lambda r: r.url.endswith("/api/runs/start")) as answer:
            page.get_by_test_id("launch-submit").click()
        response = answer.value
        assert response.status == 422
        sent = response.request.post_data_json
        assert (
            isinstance(sent, dict) and sent["fields"]["lines"] == TOO_BIG
        )  # beyond 2^53 the form sends the digits

        # The same request straight to the API: the message at the field is its message.
        api = server.client.post("/api/runs/start", json=sent)
        assert api.status_code == 422
        fields = {e["field"]: e["message"] for e in api.json()["error"]["fields"]}
        assert fields == {"lines": f"must be at most 9007199254740992 (got {TOO_BIG})"}
        expect(page.get_by_test_id("field-error-lines")).to_have_text(fields["lines"])
        expect(page.get_by_test_id("field-lines")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_test_id("field-lines")).to_be_focused()
        expect(page.get_by_test_id("launch-error")).to_have_text("The server refused some values.")
        expect(page.get_by_test_id("field-error-epochs")).to_have_count(0)
        assert page.url.endswith("/launch/scripted")  # nothing was started
        assert server.client.get("/api/runs").json()["runs"] == []
    finally:
        server.stop()
        server.client.close()


def test_rerun_with_changes_prefills_the_form_and_starts_the_changed_run(
    page: Page, server: Server
) -> None:
    original = server.start_run(
        epochs=2, lr=0.5, lines=2, text="hello world", loud=True, mode="slow", sleep=0.01
    )
    done = server.wait_status(original["id"])
    assert done["status"] == "completed"
    open_app(page, server, f"/runs/{original['id']}")
    page.get_by_test_id("rerun-button").click()

    expect(page.get_by_test_id("rerun-note")).to_contain_text(original["id"])
    form = page.get_by_test_id("launch-form")
    expect(form.get_by_test_id("field-epochs")).to_have_value("2")
    expect(form.get_by_test_id("field-lr")).to_have_value("0.5")
    expect(form.get_by_test_id("field-lines")).to_have_value("2")
    expect(form.get_by_test_id("field-text")).to_have_value("hello world")
    expect(form.get_by_test_id("field-loud")).to_be_checked()
    expect(form.get_by_test_id("field-mode")).to_have_value("1")  # the index of "slow"
    form.get_by_test_id("field-lr").fill("0.25")
    form.get_by_test_id("launch-submit").click()

    rerun_id = launched_run_id(page)
    assert rerun_id != original["id"]
    rerun = server.wait_status(rerun_id)
    assert rerun["status"] == "completed"
    assert rerun["fields"] == {**done["fields"], "lr": 0.25}
    assert rerun["fields"]["lr"] != done["fields"]["lr"]
    expect(page.get_by_test_id("run-status").first).to_have_attribute("data-status", "completed")
