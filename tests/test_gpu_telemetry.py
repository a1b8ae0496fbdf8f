"""GPUs read through NVML (here the test kit's fake NVML, which the real NVML code path
talks to): the inventory, telemetry in a run's metrics, energy and cost on its record, and a
GPU in use outside VTM kept out of the queue until it comes free."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from vtm_testkit.fake_nvml import write_state

from support import Server, wait_for

POWER_W = 120.0


def gpu(used_mb: float = 0) -> dict[str, float | str]:
    return {
        "name": "Fake A100",
        "memoryTotalMb": 40960,
        "memoryUsedMb": used_mb,
        "utilization": 35,
        "powerW": POWER_W,
    }


@pytest.fixture
def nvml_state(tmp_path: Path) -> Path:
    return write_state(tmp_path / "nvml.json", [gpu(), gpu()])


def test_telemetry_energy_and_cost_of_a_run_and_a_gpu_used_outside_vtm(
    vtm_home: Path, sqlite_url: str, nvml_state: Path, tmp_path: Path
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    srv = Server(
        vtm_home,
        sqlite_url,
        VTM_GPUS="auto",
        VTM_NVML_MODULE="vtm_testkit.fake_nvml",
        VTM_FAKE_NVML=str(nvml_state),
        VTM_GPU_SAMPLE_SECONDS="0.2",
        VTM_GPU_HOUR_COST="2.5",
    ).start()
    try:
        fields = {"epochs": 1, "gate_dir": str(gates), "pause_at": 1}
        start = {"taskId": "one-gpu", "fields": fields}
        run = srv.client.post("/api/runs/start", json=start).json()
        srv.wait_epoch(run["id"], 1)

        listing = srv.client.get("/api/gpus").json()
        assert listing["source"] == "nvml"
        assert listing["gpus"][0] == {
            "index": 0,
            "name": "Fake A100",
            "memoryTotal": 40960.0,
            "memoryUsed": 0.0,
            "utilization": 35.0,
            "runId": run["id"],
            "outsideUse": False,
        }

        def sampled() -> dict[str, list[dict[str, float]]] | None:
            series = srv.client.get(f"/api/runs/{run['id']}/metrics").json()["series"]
            wanted = ("gpu/0/utilization", "gpu/0/memory_used_mb", "gpu/0/power_w")
            return series if all(series.get(name) for name in wanted) else None

        series = wait_for(sampled, "the run's GPU to be sampled into its metrics")
        assert series["gpu/0/utilization"][0]["value"] == 35.0
        assert series["gpu/0/power_w"][0]["value"] == POWER_W
        assert not any(name.startswith("gpu/1/") for name in series)  # not the run's GPU

        # GPU 1 fills up outside VTM: not handed out, and the reason says so.
        write_state(nvml_state, [gpu(), gpu(used_mb=5000)])
        second = srv.client.post("/api/runs/start", json=start).json()
        assert second["status"] == "queued"
        assert second["queue"]["reason"] == "needs 1 GPU, 0 free; GPU 1 in use outside VTM"
        outside = srv.client.get("/api/gpus").json()["gpus"][1]
        assert (outside["outsideUse"], outside["runId"]) == (True, None)
        write_state(nvml_state, [gpu(), gpu()])  # …and frees it: the queue notices by itself
        srv.wait_status(second["id"], "running")

        for each in (run, second):
            (gates / each["id"]).touch()
        srv.wait_status(run["id"])
        done = wait_for(
            lambda: (r := srv.run(run["id"]))["energyWh"] is not None and r,
            "the run's energy to be recorded",
        )
        took = (
            datetime.fromisoformat(done["finishedAt"]) - datetime.fromisoformat(done["startedAt"])
        ).total_seconds()
        # The counters are read as it starts and when VTM sees it end: within a second.
        assert done["energyWh"] == pytest.approx(POWER_W * took / 3600, abs=POWER_W / 3600)
        assert done["gpuHours"] == pytest.approx(took / 3600)
        assert done["cost"] == pytest.approx(done["gpuHours"] * 2.5)
        srv.wait_status(second["id"])
        other = wait_for(
            lambda: (r := srv.run(second["id"]))["energyWh"] is not None and r,
            "the second run's energy to be recorded",
        )

        # The quality report adds them up for the task.
        report = srv.client.get("/api/report", params={"task": "one-gpu"}).json()
        use = report["tasks"][0]["gpuUse"]
        assert (use["gpuRuns"], use["measuredRuns"]) == (2, 2)
        assert use["energyWh"] == pytest.approx(done["energyWh"] + other["energyWh"])
        assert use["gpuHours"] == pytest.approx(done["gpuHours"] + other["gpuHours"])
        assert use["cost"] == pytest.approx(use["gpuHours"] * 2.5)
    finally:
        srv.close()
