"""A stand-in for nvidia-ml-py's ``pynvml`` on machines without a GPU: the functions VTM
calls, answering from a JSON file a test writes and may rewrite while a server runs.

A server started with ``VTM_NVML_MODULE=vtm_testkit.fake_nvml`` and
``VTM_FAKE_NVML=<file>`` reads its GPUs from the file (re-read on every call)::

    {"gpus": [{"name": "Fake A100", "memoryTotalMb": 40960, "memoryUsedMb": 0,
               "utilization": 35, "powerW": 120}]}

Each GPU's energy counter grows at its ``powerW``, as a real one would; ``write_state``
writes such a file. No file: NVML is "not loaded".
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024
STATE_VARIABLE = "VTM_FAKE_NVML"
# The counters run on the wall clock from a fixed moment: the same in every process, so a
# restarted server reads on from where its predecessor's runs started.
_EPOCH = 1_767_225_600.0  # 2026-01-01


class NVMLError(Exception):
    pass


@dataclass(frozen=True)
class _Memory:
    total: int
    used: int
    free: int


@dataclass(frozen=True)
class _Rates:
    gpu: int
    memory: int


def write_state(path: Path, gpus: Sequence[dict[str, Any]]) -> Path:
    """Write (or rewrite) the fake GPUs' state; atomically, for a server reading it."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"gpus": list(gpus)}))
    partial.replace(path)
    return path


def _gpus() -> list[dict[str, Any]]:
    path = os.environ.get(STATE_VARIABLE)
    if not path or not Path(path).exists():
        raise NVMLError("NVML Shared Library Not Found")
    gpus: list[dict[str, Any]] = json.loads(Path(path).read_text())["gpus"]
    return gpus


def _gpu(handle: int) -> dict[str, Any]:
    gpus = _gpus()
    if not 0 <= handle < len(gpus):
        raise NVMLError("Invalid Argument")
    return gpus[handle]


def nvmlInit() -> None:
    _gpus()


def nvmlShutdown() -> None:
    pass


def nvmlDeviceGetCount() -> int:
    return len(_gpus())


def nvmlDeviceGetHandleByIndex(index: int) -> int:
    _gpu(index)
    return index


def nvmlDeviceGetName(handle: int) -> str:
    return str(_gpu(handle).get("name", "Fake GPU"))


def nvmlDeviceGetMemoryInfo(handle: int) -> _Memory:
    gpu = _gpu(handle)
    total = int(gpu.get("memoryTotalMb", 16384) * MB)
    used = int(gpu.get("memoryUsedMb", 0) * MB)
    return _Memory(total=total, used=used, free=total - used)


def nvmlDeviceGetUtilizationRates(handle: int) -> _Rates:
    return _Rates(gpu=int(_gpu(handle).get("utilization", 0)), memory=0)


def nvmlDeviceGetPowerUsage(handle: int) -> int:
    return int(_gpu(handle).get("powerW", 100) * 1000)  # mW, as NVML answers


def nvmlDeviceGetTotalEnergyConsumption(handle: int) -> int:
    power_w = float(_gpu(handle).get("powerW", 100))
    return int(power_w * (time.time() - _EPOCH) * 1000)  # mJ since "the driver loaded"
