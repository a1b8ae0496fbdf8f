"""A real framework trainer, unchanged, watched in the browser while it goes: the plain tqdm +
torch SummaryWriter loop of tests/frameworks/, run by .venv-trainers' Python. Its tqdm bar
moves on the run page, its TensorBoard scalars become a chart, and it is stopped from there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import open_app
from playwright.sync_api import Page, expect

from support import TESTS, Server, vtm_home_at, wait_for

pytestmark = pytest.mark.frameworks

CATALOG = TESTS / "frameworks" / "catalog.yaml"
PYTHON = TESTS.parent / ".venv-trainers" / "bin" / "python"
STEPS = 5_000_000  # minutes of tqdm and add_scalar on this machine: it is stopped long before


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if not PYTHON.exists():
        pytest.fail(f"{PYTHON} is missing: `make trainers-env` makes it (`make test` does)")
    for home in vtm_home_at(tmp_path / "home"):
        with Server(home, catalog=CATALOG) as srv:
            yield srv


def test_a_tqdm_and_summary_writer_loop_moves_on_the_run_page_and_stops_from_it(
    page: Page, server: Server
) -> None:
    run_id = server.start_run("tqdm-tensorboard", steps=STEPS)["id"]

    def under_way() -> int | None:
        bar = server.run(run_id)["progress"].get("bar") or {}
        return bar.get("n") or None

    wait_for(under_way, "the trainer's tqdm bar to move", timeout=120)
    open_app(page, server, f"/runs/{run_id}")
    text = page.get_by_test_id(f"progress-text-{run_id}")
    expect(text).to_contain_text(f" / {STEPS}")
    first = int(re.split(r"\s", text.inner_text().strip())[0])
    # Pushed, not reloaded: the bar moves on while the page stays as it is.
    expect(text).not_to_have_text(re.compile(rf"^{first} / "))
    expect(page.get_by_test_id("metric-chart-loss")).to_be_visible(timeout=60_000)

    page.get_by_test_id("stop-button").click()
    page.get_by_test_id("stop-confirm").click()
    expect(page.get_by_test_id("run-status").first).to_have_attribute(
        "data-status", "stopped", timeout=30_000
    )
    assert server.wait_status(run_id)["status"] == "stopped"
