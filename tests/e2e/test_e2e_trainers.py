"""A trainer that knows nothing of VTM, watched in a real browser while it goes: its tqdm bar
as the progress bar, its TensorBoard scalars as a chart, its run folder's files listed."""

from __future__ import annotations

from pathlib import Path

from e2e_support import expect_progress, open_app, release
from playwright.sync_api import Page, expect

from support import Server, wait_for


def test_the_run_page_shows_an_unchanged_trainer_live(
    page: Page, server: Server, gates: Path
) -> None:
    run = server.start_run("unchanged", steps=10, pause_at=4, gate_dir=str(gates))
    run_id = run["id"]
    wait_for(
        lambda: server.run(run_id)["progress"].get("bar") == {"n": 4, "total": 10} or None,
        "the bar at 4/10",
    )
    open_app(page, server, f"/runs/{run_id}")
    expect_progress(page, run_id, 4, 10)
    expect(page.get_by_test_id(f"progress-text-{run_id}")).to_contain_text("4 / 10 · 40%")
    expect(page.get_by_test_id("metric-chart-train/loss")).to_be_visible()
    files = page.get_by_test_id("run-files")
    expect(files.get_by_test_id("artifact-dir-lightning_logs")).to_be_visible()
    files.get_by_test_id("artifact-dir-lightning_logs").click()
    files.get_by_test_id("artifact-dir-lightning_logs/version_0").click()
    expect(files.get_by_role("link").filter(has_text="events.out.tfevents.")).to_have_count(1)

    release(gates, run_id)  # the rest arrives pushed, without a reload
    expect_progress(page, run_id, 10, 10)
    expect(page.get_by_test_id("run-status").first).to_have_attribute("data-status", "completed")
