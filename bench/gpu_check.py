"""The GPU check: the digits sample on a real NVIDIA GPU, through VTM and directly.

Run by ``bench/gpu_check.sh`` (which installs what the machine lacks from wheels brought along)
on a machine with an NVIDIA GPU; standard library and httpx only, so it runs in whatever Python
holds PyTorch there. It checks, and prints as one JSON object:

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

import httpx

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


def direct(python: str, fields: dict[str, Any], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of the bare trainer and the device its last progress line named."""
    argv = [python, str(TRAINER), *(f"--{k}={v}" for k, v in fields.items())]
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"the direct run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    device = ""
    for line in done.stdout.splitlines():
        if line.startswith("VTM_PROGRESS::"):
            device = json.loads(line.split("::", 1)[1]).get("device", device)
    return wall, device


class Vtm:
    def __init__(self, home: Path, catalog: Path, env: dict[str, str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        home.mkdir(parents=True, exist_ok=True)
        log = (home / "serve.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vtm", "serve", "--port", str(port), "--catalog", str(catalog)],
            env={**env, "VTM_HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + 120
        while True:
            try:
                if self.http.get("/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"vtm serve did not come up: see {home / 'serve.log'}")
            time.sleep(0.1)  # polling for the server to listen

    def start(self, fields: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post("/api/runs/start", json={"taskId": TASK, "fields": fields})
        if r.status_code != 201:
            raise SystemExit(f"start: {r.status_code} {r.text}")
        run: dict[str, Any] = r.json()
        return run

    def run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.http.get(f"/api/runs/{run_id}").json()
        return run

    def wait(self, run_id: str, *statuses: str, timeout: float = 900) -> dict[str, Any]:
        wanted = statuses or ("completed", "failed", "stopped")
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["status"] in wanted:
                return run
            if time.monotonic() > deadline:
                raise SystemExit(f"run {run_id} still {run['status']} after {timeout} s")
            time.sleep(0.02)  # polling the API, as a client does

    def close(self) -> None:
        self.http.close()
        os.killpg(self.proc.pid, 15)
        self.proc.wait(30)


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
    env.update({"VTM_GPUS": "auto", "VTM_GPU_SAMPLE_SECONDS": "1", "PYTHONUNBUFFERED": "1"})
    env["VTM_MLFLOW_STORE_AT_START"] = "false"  # the digits trainer logs to MLflow only if set
    expected_device = "cuda:0"
    if args.fake_nvml:
        state = work / "nvml.json"
        state.write_text(
            json.dumps({"gpus": [{"name": "Fake GPU", "memoryTotalMb": 16384, "powerW": 100}]})
        )
        env.update({"VTM_NVML_MODULE": "vtm_testkit.fake_nvml", "VTM_FAKE_NVML": str(state)})
        expected_device = "cpu"
    fields = {"epochs": args.epochs, "device": "auto", "seed": 0}
    catalog = catalog_with_a_gpu(work / "catalog")
    report: dict[str, Any] = {"epochs": args.epochs, "repeat": args.repeat, "checks": {}}
    checks = report["checks"]
    vtm = Vtm(work / "home", catalog, env, args.port)
    try:
        gpus = vtm.http.get("/api/gpus").json()
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
            wall, device = direct(sys.executable, fields, bare_env)
            direct_walls.append(wall)
            devices.add(device)
            t0 = time.perf_counter()
            run = vtm.wait(vtm.start(fields)["id"])
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

        first = vtm.start(fields)
        second = vtm.start(fields)
        checks["the second 1-GPU run waits"] = (
            second["status"] == "queued" and (second["queue"] or {}).get("position") == 1
        )
        report["queue_reason"] = (second["queue"] or {}).get("reason")
        first = vtm.wait(first["id"])
        second = vtm.wait(second["id"])
        checks["the two runs are serialised"] = second["startedAt"] >= first["finishedAt"]

        metrics = vtm.http.get(f"/api/runs/{first['id']}/metrics").json()["series"]
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
