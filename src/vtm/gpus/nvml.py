"""NVML, the one seam between VTM and the GPUs' driver.

Everything VTM learns about a GPU (how many there are, their names, memory, utilisation,
power and energy counters) comes through ``open_nvml``, which imports the module named by
``VTM_NVML_MODULE``: ``pynvml`` (nvidia-ml-py) by default. A machine without the driver gets
None and VTM runs without readings; the tests name a fake module with the same functions
(``vtm_testkit.fake_nvml``) and so drive the very code that talks to the real one.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True)
class GpuReading:
    """What NVML says of one GPU at one moment; None where the GPU does not say."""

    index: int
    name: str
    memory_total_mb: float | None
    memory_used_mb: float | None
    utilization: float | None  # percent of the last sample period the GPU was busy
    power_w: float | None
    energy_mj: int | None  # millijoules since the driver was loaded (Volta and newer)


class Nvml:
    """An open NVML session. Calls are serialised: NVML handles are shared by threads."""

    def __init__(self, module: ModuleType) -> None:
        self._nv: Any = module
        self._lock = threading.Lock()

    def count(self) -> int:
        with self._lock:
            return int(self._nv.nvmlDeviceGetCount())

    def read(self, index: int) -> GpuReading | None:
        """One GPU's reading, or None if NVML knows no GPU ``index``."""
        with self._lock:
            try:
                handle = self._nv.nvmlDeviceGetHandleByIndex(index)
            except self._nv.NVMLError:
                return None
            name = self._ask(self._nv.nvmlDeviceGetName, handle)
            memory = self._ask(self._nv.nvmlDeviceGetMemoryInfo, handle)
            rates = self._ask(self._nv.nvmlDeviceGetUtilizationRates, handle)
            power_mw = self._ask(self._nv.nvmlDeviceGetPowerUsage, handle)
            energy = self._ask(self._nv.nvmlDeviceGetTotalEnergyConsumption, handle)
        if isinstance(name, bytes):  # nvidia-ml-py before 11.5 answers bytes
            name = name.decode(errors="replace")
        return GpuReading(
            index=index,
            name=str(name) if name is not None else f"GPU {index}",
            memory_total_mb=memory.total / MB if memory is not None else None,
            memory_used_mb=memory.used / MB if memory is not None else None,
            utilization=float(rates.gpu) if rates is not None else None,
            power_w=power_mw / 1000 if power_mw is not None else None,
            energy_mj=int(energy) if energy is not None else None,
        )

    def _ask(self, call: Any, handle: Any) -> Any:
        # A GPU that does not support one query (power on some boards, energy before Volta)
        # still answers the others.
        try:
            return call(handle)
        except self._nv.NVMLError:
            return None

    def close(self) -> None:
        with self._lock, contextlib.suppress(self._nv.NVMLError):
            self._nv.nvmlShutdown()


def open_nvml(module_name: str = "pynvml") -> Nvml | None:
    """An NVML session through ``module_name``, or None where there is no NVML: the module
    is not installed, or no driver is loaded (a machine without GPUs)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        log.info("no NVML: %s is not installed", module_name)
        return None
    try:
        module.nvmlInit()
    except module.NVMLError as exc:
        log.info("no NVML: %s", exc)
        return None
    return Nvml(module)
