"""The GPU check: the digits sample on a real NVIDIA GPU, through VTM and directly.

Run by ``bench/gpu_check.sh`` (which installs what the machine lacks from wheels brought along)
on a machine with an NVIDIA GPU; standard library, httpx and the test kit (`vtm serve` started
as the tests start it) only, so it runs in whatever Python holds PyTorch there. It checks, and
prints as one JSON object:

1. the direct run: ``examples/trainers/classification.py --device=auto``, its wall time;
2. the same run through `vtm serve` (``VTM_GPUS=auto``: NVML), from the start request to the
   run's end, its progress showing ``cuda:0`` and ``CUDA_VISIBLE_DEVICES`` its GPU; the ratio
   VTM/direct of the two wall times (target: at most 1.03), both runs alternated ``--repeat``
   times and the medians compared;
3. two 1-GPU runs on one GPU: the second waits (position 1, a reason) and starts only once the
   first has ended;
4. telemetry (``gpu/0/utilization``, ``gpu/0/memory_used_mb``, ``gpu/0/power_w`` in the run's
   metrics) and energy (``energyWh``) on the record.

``--fake-nvml`` runs the same checks on a machine without a GPU against the test kit's fake
NVML (the trainer then trains on the CPU and the device check expects ``cpu``): how the
script itself is tested.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vtm_testkit import VtmServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TRAINER = EXAMPLES / "trainers" / "classification.py"
TASK = "digits-cnn"


def catalog_with_a_gpu(folder: Path) -> Path:
    """The sample catalog with ``digits-cnn`` asking for one GPU, beside its trainers."""
    shutil.copytree(EXAMPLES, folder, dirs_exist_ok=True)
    path = folder / "training_catalog.yaml"
    text = path.read_text()
    marker = "mlflow: {experiment: digits-cnn"
    start = text.index(marker)
    before = text.rindex("resources: {gpus: 0}", 0, start)
    path.write_text(text[:before] + "resources: {gpus: 1}" + text[before + 20 :])
    return path


def direct(
    python: str, fields: dict[str, Any], env: dict[str, str], cwd: Path
) -> tuple[float, str]:
    """Wall seconds of the bare trainer and the device its last progress line named."""
    argv = [python, str(TRAINER), *(f"--{k}={v}" for k, v in fields.items())]
    t0 = time.perf_counter()
    # In ``cwd``: MLflow puts a SQLite store's artifacts under ./mlruns.
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"the direct run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    device = ""
    for line in done.stdout.splitlines():
        if line.startswith("VTM_PROGRESS::"):
            device = json.loads(line.split("::", 1)[1]).get("device", device)
    return wall, device


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternated")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fake-nvml", action="store_true", help="a dry run without a GPU")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vtm-gpu-check-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    settings = {"VTM_GPUS": "auto", "VTM_GPU_SAMPLE_SECONDS": "1", "PYTHONUNBUFFERED": "1"}
    expected_device = "cuda:0"
    if args.fake_nvml:
        state = work / "nvml.json"
        state.write_text(
            json.dumps({"gpus": [{"name": "Fake GPU", "memoryTotalMb": 16384, "powerW": 100}]})
        )
        settings.update({"VTM_NVML_MODULE": "vtm_testkit.fake_nvml", "VTM_FAKE_NVML": str(state)})
        expected_device = "cpu"
    fields = {"epochs": args.epochs, "device": "auto", "seed": 0}
    catalog = catalog_with_a_gpu(work / "catalog")
    report: dict[str, Any] = {"epochs": args.epochs, "repeat": args.repeat, "checks": {}}
    checks = report["checks"]
    vtm = VtmServer(work / "home", catalog=catalog, port=args.port, **settings).start(120)
    try:
        gpus = vtm.client.get("/api/gpus").json()
        report["gpus"] = gpus
        checks["a GPU found by NVML"] = gpus["source"] == "nvml" and len(gpus["gpus"]) >= 1

        direct_walls, vtm_walls, devices = [], [], set()
        # The GPU the VTM run gets, and an MLflow store as VTM gives its runs: where mlflow is
        # installed both log to it, where it is not neither does.
        bare_env = {
            **env,
            "CUDA_VISIBLE_DEVICES": "0",
            "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'direct-mlflow.db'}",
            "MLFLOW_EXPERIMENT_NAME": TASK,
        }
        for _ in range(args.repeat):
            wall, device = direct(sys.executable, fields, bare_env, work)
            direct_walls.append(wall)
            devices.add(device)
            t0 = time.perf_counter()
            run = vtm.wait_status(vtm.start_run(TASK, **fields)["id"], timeout=900)
            vtm_walls.append(time.perf_counter() - t0)
            if run["status"] != "completed":
                raise SystemExit(f"the VTM run {run['id']} {run['status']}: {run['error']}")
            checks.setdefault("progress shows the device", True)
            checks["progress shows the device"] &= run["progress"].get("device") == (
                expected_device
            )
        report["direct_wall_s"] = direct_walls
        report["vtm_wall_s"] = vtm_walls
        report["ratio_vtm_direct"] = statistics.median(vtm_walls) / statistics.median(direct_walls)
        checks["the direct run used the device too"] = devices == {expected_device}
        checks["ratio VTM/direct <= 1.03"] = report["ratio_vtm_direct"] <= 1.03

        first = vtm.start_run(TASK, **fields)
        second = vtm.start_run(TASK, **fields)
        checks["the second 1-GPU run waits"] = (
            second["status"] == "queued" and (second["queue"] or {}).get("position") == 1
        )
        report["queue_reason"] = (second["queue"] or {}).get("reason")
        first = vtm.wait_status(first["id"], timeout=900)
        second = vtm.wait_status(second["id"], timeout=900)
        checks["the two runs are serialised"] = second["startedAt"] >= first["finishedAt"]

        metrics = vtm.client.get(f"/api/runs/{first['id']}/metrics").json()["series"]
        names = ("utilization", "memory_used_mb", "power_w")
        sampled = {n: len(metrics.get(f"gpu/0/{n}", [])) for n in names}
        report["telemetry_points"] = sampled
        checks["telemetry recorded"] = all(sampled.values())
        deadline = time.monotonic() + 30
        while (energy := vtm.run(first["id"])["energyWh"]) is None and time.monotonic() < deadline:
            time.sleep(0.1)  # polling: the energy is recorded just after the run ends
        report["energy_wh"] = energy
        checks["energy recorded"] = energy is not None and energy > 0
    finally:
        vtm.close()
    report["ok"] = all(checks.values())
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
