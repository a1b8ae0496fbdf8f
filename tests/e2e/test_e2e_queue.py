"""The queue and the GPUs in a real browser: two GPUs (the test kit's fake NVML) held by two
runs, a two-GPU run and another one waiting; the Live page shows who holds which GPU, the queue
in order with why each run waits, follows a priority changed and a run cancelled from the
page, and empties as the GPUs come free.

With ``VTM_SCREENSHOTS=1`` it writes docs/screenshots/queue.png:

    VTM_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_e2e_queue.py
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_support import DESKTOP, open_app, release, run_row
from playwright.sync_api import Locator, Page, ViewportSize, expect
from vtm_testkit.fake_nvml import write_state

from support import TESTS, Server
from vtm.states import RunStatus
from vtm.store import RunRepository, create_db_engine, migrate
from vtm.store.launch import LaunchRecord
from vtm.store.records import NewRun

SHOTS = TESTS.parent / "docs" / "screenshots"
WRITE = os.environ.get("VTM_SCREENSHOTS") == "1"
PHONE: ViewportSize = {"width": 390, "height": 844}


def fake_gpu(used_mb: float, utilization: float, power_w: float) -> dict[str, Any]:
    return {
        "name": "Fake A100",
        "memoryTotalMb": 40960,
        "memoryUsedMb": used_mb,
        "utilization": utilization,
        "powerW": power_w,
    }


def seed_earlier_runs(database_url: str) -> None:
    """Three finished one-gpu runs that took 100, 300 and 200 s: the queue's estimates of
    when a run waiting for one of them starts use their median, 200 s."""
    engine = create_db_engine(database_url)
    migrate(engine)
    repo = RunRepository(engine)
    for n, took in enumerate((100, 300, 200)):
        run_id = f"20261101-10{n:02d}00-00000{n}"
        start = datetime(2026, 11, 1, 10, n, tzinfo=UTC)
        repo.insert(NewRun(run_id, "one-gpu", {}, [], LaunchRecord(gpus=1)))
        repo.transition(run_id, RunStatus.RUNNING, started_at=start)
        repo.transition(run_id, RunStatus.COMPLETED, finished_at=start + timedelta(seconds=took))
    engine.dispose()


@pytest.fixture
def nvml_state(tmp_path: Path) -> Path:
    return write_state(tmp_path / "nvml.json", [fake_gpu(0, 0, 60), fake_gpu(0, 0, 60)])


@pytest.fixture
def gpu_server(vtm_home: Path, database_url: str, nvml_state: Path) -> Iterator[Server]:
    seed_earlier_runs(database_url)
    srv = Server(
        vtm_home,
        database_url,
        VTM_GPUS="auto",
        VTM_NVML_MODULE="vtm_testkit.fake_nvml",
        VTM_FAKE_NVML=str(nvml_state),
        VTM_GPU_SAMPLE_SECONDS="0.5",
    ).start()
    yield srv
    srv.close()


def held_run(server: Server, gates: Path, task: str) -> dict[str, Any]:
    """A run of ``task`` that stops at its first of three epochs until its gate opens."""
    fields = {"epochs": 3, "gate_dir": str(gates), "pause_at": 1}
    return server.start_run(task, **fields)


def queue_row(page: Page, run_id: str) -> Locator:
    return page.get_by_test_id(f"queue-row-{run_id}")


def expect_queue(page: Page, *run_ids: str) -> None:
    """The queue lists exactly these runs, in this order, numbered from 1."""
    rows = page.get_by_test_id("queue").get_by_role("listitem")
    expect(rows).to_have_count(len(run_ids))
    for position, run_id in enumerate(run_ids, start=1):
        expect(rows.nth(position - 1)).to_have_attribute("data-testid", f"queue-row-{run_id}")
        expect(rows.nth(position - 1).get_by_test_id("queue-position")).to_have_text(f"#{position}")


def test_the_live_page_shows_the_gpus_and_the_queue_and_acts_on_it(
    page: Page, gpu_server: Server, gates: Path, nvml_state: Path
) -> None:
    server = gpu_server
    first, second = (held_run(server, gates, "one-gpu") for _ in range(2))
    for run in (first, second):
        server.wait_epoch(run["id"], 1)
    gpu_of = {server.run(run["id"])["gpus"][0]: run["id"] for run in (first, second)}
    assert sorted(gpu_of) == [0, 1]
    big = held_run(server, gates, "two-gpus")
    small = held_run(server, gates, "one-gpu")
    assert big["status"] == small["status"] == "queued"

    open_app(page, server)
    # The GPUs: both held, each by its run, read through NVML.
    expect(page.get_by_test_id("gpu-source")).to_have_text("found by NVML")
    for index, run_id in gpu_of.items():
        card = page.get_by_test_id(f"gpu-{index}")
        expect(card).to_have_attribute("data-state", "held")
        expect(card.get_by_test_id("gpu-name")).to_have_text("Fake A100")
        expect(card.get_by_test_id("gpu-run-link")).to_have_text(run_id)
        expect(card.get_by_test_id("gpu-run-link")).to_have_attribute("href", f"/runs/{run_id}")
        expect(card.get_by_test_id("gpu-outside-use")).to_have_count(0)
    # New readings arrive by themselves (gpus.updated), without a reload.
    write_state(nvml_state, [fake_gpu(31_500, 87, 310), fake_gpu(18_200, 64, 240)])
    gpu0 = page.get_by_test_id("gpu-0")
    expect(gpu0.get_by_test_id("gpu-utilization")).to_have_text("87%")
    expect(gpu0.get_by_test_id("gpu-memory")).to_have_text("30.8 / 40.0 GiB")
    expect(page.get_by_test_id("gpu-1").get_by_test_id("gpu-utilization")).to_have_text("64%")

    # The queue: the two-GPU run first (it came first), then the one behind it; running runs
    # are listed apart.
    expect_queue(page, big["id"], small["id"])
    expect(queue_row(page, big["id"]).get_by_test_id("queue-reason")).to_contain_text(
        "needs 2 GPUs, 0 free"
    )
    expect(queue_row(page, small["id"]).get_by_test_id("queue-reason")).to_contain_text(
        "behind 1 run queued earlier"
    )
    # Nothing is known of how long a two-GPU run takes, so nothing of what waits behind one.
    expect(queue_row(page, small["id"]).get_by_test_id("queue-estimate")).to_have_text("unknown")
    active = page.get_by_test_id("active-runs")
    for run in (first, second):
        expect(run_row(active, run["id"])).to_be_visible()
    expect(run_row(active, big["id"])).to_have_count(0)

    # A higher priority moves the small run to the front.
    row = queue_row(page, small["id"])
    row.get_by_test_id("priority-input").fill("5")
    row.get_by_test_id("priority-submit").click()
    expect_queue(page, small["id"], big["id"])
    expect(queue_row(page, big["id"]).get_by_test_id("queue-reason")).to_contain_text(
        "behind 1 run of higher priority"
    )
    expect(row.get_by_test_id("priority-input")).to_have_value("5")
    expect(row.get_by_test_id("priority-submit")).to_be_disabled()
    assert server.run(small["id"])["priority"] == 5
    # It waits for a one-gpu run to end: 200 s after the first of them started, by the median.
    expect(row.get_by_test_id("queue-estimate")).to_have_text(
        re.compile(r"^(in \d+m \d\ds|any moment now) \(.+\)$")
    )
    if WRITE:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "queue.png", full_page=True, animations="disabled")

    # On a phone the queue and the GPUs fit the screen's width.
    page.set_viewport_size(PHONE)
    expect(page.get_by_test_id("gpu-0")).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the live page scrolls sideways on a phone ({width} px)"
    page.set_viewport_size(DESKTOP)

    # Its own page says the same.
    row.get_by_test_id("queue-run-link").click()
    expect(page.get_by_test_id("run-queue-position")).to_have_text("#1 in the queue")
    expect(page.get_by_test_id("run-priority")).to_have_text("5")
    page.go_back()

    # Cancelled from the page: it leaves the queue, stopped.
    queue_row(page, big["id"]).get_by_test_id("queue-cancel").click()
    expect_queue(page, small["id"])
    assert server.wait_status(big["id"])["status"] == "stopped"

    # The first run ends, but its GPU's memory stays in use (a process outside VTM, say):
    # marked, and not handed out; once that memory is freed the waiting run takes the GPU and
    # joins the running runs.
    freed = server.run(first["id"])["gpus"][0]
    release(gates, first["id"])
    card = page.get_by_test_id(f"gpu-{freed}")
    expect(card.get_by_test_id("gpu-outside-use")).to_have_text("in use outside VTM")
    expect(card.get_by_test_id("gpu-holder")).to_have_text("not handed out")
    expect(queue_row(page, small["id"]).get_by_test_id("queue-reason")).to_contain_text(
        f"GPU {freed} in use outside VTM"
    )
    write_state(nvml_state, [fake_gpu(0, 0, 60), fake_gpu(0, 0, 60)])
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    expect(run_row(active, small["id"])).to_be_visible()
    expect(card.get_by_test_id("gpu-run-link")).to_have_text(small["id"])
    expect(card.get_by_test_id("gpu-outside-use")).to_have_count(0)
    for run in (second, small):
        release(gates, run["id"])
        assert server.wait_status(run["id"])["status"] == "completed"
    for index in (0, 1):
        card = page.get_by_test_id(f"gpu-{index}")
        expect(card).to_have_attribute("data-state", "free")
        expect(card.get_by_test_id("gpu-holder")).to_have_text("free")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()


def test_a_run_page_charts_its_gpus_telemetry(page: Page, gpu_server: Server, gates: Path) -> None:
    run = held_run(gpu_server, gates, "one-gpu")
    gpu_server.wait_epoch(run["id"], 1)
    open_app(page, gpu_server, f"/runs/{run['id']}")
    gpu = page.get_by_test_id("gpu-metrics")
    for kind in ("utilization", "memory_used_mb", "power_w"):
        expect(gpu.get_by_test_id(f"gpu-chart-{kind}").locator("canvas")).to_have_count(1)
    expect(gpu.get_by_test_id("gpu-chart-power_w")).to_contain_text("GPU power (W)")
    # The trainer's own metrics come first, apart from the GPU's.
    expect(page.get_by_test_id("metric-chart-val_accuracy")).to_be_visible()
    expect(page.get_by_test_id("metric-chart-gpu/0/utilization")).to_have_count(0)
    release(gates, run["id"])
    assert gpu_server.wait_status(run["id"])["status"] == "completed"
