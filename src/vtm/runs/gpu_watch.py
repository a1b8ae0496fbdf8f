"""A server thread that keeps the queue and the GPUs' figures current between events.

Each second it lets the queue make a pass if one is due while runs wait (a reservation falls
due with time, a GPU used outside VTM comes free without VTM hearing of it); every
``VTM_GPU_SAMPLE_SECONDS`` it samples the GPUs through NVML into the metrics of the runs
holding them, as ``gpu/<index>/utilization``, ``gpu/<index>/memory_used_mb`` and
``gpu/<index>/power_w`` at the step of the seconds since the run started, and tells the UI
(``on_sample``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vtm.gpus import GpuReading
from vtm.runs.service import RunService
from vtm.store.records import utcnow

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


def telemetry(reading: GpuReading) -> dict[str, float]:
    """One GPU's sample, as metric points (what NVML could not read is left out)."""
    values = {
        "utilization": reading.utilization,
        "memory_used_mb": reading.memory_used_mb,
        "power_w": reading.power_w,
    }
    return {f"gpu/{reading.index}/{k}": v for k, v in values.items() if v is not None}


class GpuWatch(threading.Thread):
    def __init__(
        self,
        service: RunService,
        sample_seconds: float,
        on_sample: Callable[[list[str], dict[int, GpuReading | None]], None],
    ) -> None:
        """``on_sample``: called after each sample with the runs whose GPUs were sampled and
        the readings taken."""
        super().__init__(name="gpu-watch", daemon=True)
        self._service = service
        self._sample_seconds = sample_seconds
        self._on_sample = on_sample
        self._stop_event = threading.Event()

    def run(self) -> None:
        next_sample = time.monotonic()
        while not self._stop_event.wait(min(TICK_SECONDS, self._sample_seconds)):
            try:
                self._service.tick()
                if time.monotonic() >= next_sample:
                    next_sample = time.monotonic() + self._sample_seconds
                    self._sample()
            except Exception:  # a failed pass or sample must not end the watch
                log.exception("GPU watch pass failed")

    def _sample(self) -> None:
        inventory = self._service.inventory
        if not inventory.indices:
            return
        sampled: list[str] = []
        readings = inventory.read()
        if inventory.has_readings:
            now = utcnow()
            for run in self._service.holding():
                points: dict[str, float] = {}
                for gpu in run.gpus:
                    reading = readings.get(gpu)
                    if reading is not None:
                        points.update(telemetry(reading))
                if points:
                    step = int((now - run.started_at).total_seconds())
                    self._service.repo.add_points(run.id, points, step)
                    sampled.append(run.id)
        self._on_sample(sampled, readings)

    def close(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
