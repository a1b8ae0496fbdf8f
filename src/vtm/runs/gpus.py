"""Which GPUs this server may hand out, and which are taken."""

from __future__ import annotations

import threading


def detect_gpus(setting: str) -> list[int]:
    """GPU indices from the ``VTM_GPUS`` setting: '0,1', 'none', or 'auto' (ask NVML)."""
    value = setting.strip().lower()
    if value in ("", "none"):
        return []
    if value != "auto":
        try:
            return sorted({int(part) for part in value.split(",") if part.strip()})
        except ValueError as exc:
            raise ValueError(
                f"VTM_GPUS must be 'auto', 'none' or indices like '0,1': {setting!r}"
            ) from exc
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:  # no driver on this machine: no GPUs to hand out
        return []
    try:
        return list(range(int(pynvml.nvmlDeviceGetCount())))
    finally:
        pynvml.nvmlShutdown()


class GpuPool:
    def __init__(self, gpus: list[int]) -> None:
        self.all = list(gpus)
        self._free = set(gpus)
        self._lock = threading.Lock()

    def acquire(self, count: int) -> list[int] | None:
        """``count`` free GPUs, or None if not enough are free now."""
        if count == 0:
            return []
        with self._lock:
            if len(self._free) < count:
                return None
            chosen = sorted(self._free)[:count]
            self._free.difference_update(chosen)
            return chosen

    def claim(self, gpus: list[int]) -> None:
        """Mark GPUs already held by a run found still going at start-up."""
        with self._lock:
            self._free.difference_update(gpus)

    def release(self, gpus: list[int]) -> None:
        with self._lock:
            self._free.update(g for g in gpus if g in self.all)
