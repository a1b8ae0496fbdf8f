"""The GPUs this server may hand out: declared (``VTM_GPUS=0,1`` or ``none``) or found by
NVML (``auto``), and what NVML reads of each right now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vtm.gpus.nvml import GpuReading, Nvml, open_nvml

Source = Literal["nvml", "declared"]


@dataclass(frozen=True)
class GpuSpec:
    """How many GPUs and where that came from, parsed from ``VTM_GPUS``."""

    source: Source
    indices: list[int] | None  # None: as many as NVML finds ('auto')

    @classmethod
    def parse(cls, setting: str) -> GpuSpec:
        value = setting.strip().lower()
        if value == "auto":
            return cls("nvml", None)
        if value in ("", "none"):
            return cls("declared", [])
        try:
            indices = sorted({int(part) for part in value.split(",") if part.strip()})
        except ValueError:
            indices = [-1]
        if any(i < 0 for i in indices):
            raise ValueError(
                f"VTM_GPUS must be 'auto', 'none' or GPU indices like '0,1': {setting!r}"
            )
        return cls("declared", indices)


class Inventory:
    """The server's GPUs and their readings. Declared GPUs are read through NVML too when
    it is there (a declared subset of a real machine's GPUs, or the tests' fake NVML)."""

    def __init__(self, setting: str, nvml_module: str = "pynvml") -> None:
        spec = GpuSpec.parse(setting)
        self.source: Source = spec.source
        # 'none' declares no GPU: NVML is not even loaded.
        self._nvml: Nvml | None = open_nvml(nvml_module) if spec.indices != [] else None
        if spec.indices is not None:
            self.indices = spec.indices
        else:
            self.indices = list(range(self._nvml.count())) if self._nvml else []

    @property
    def has_readings(self) -> bool:
        return self._nvml is not None

    def read(self) -> dict[int, GpuReading | None]:
        """Every GPU's reading now (None for one NVML cannot read, or with no NVML)."""
        if self._nvml is None:
            return dict.fromkeys(self.indices)
        return {i: self._nvml.read(i) for i in self.indices}

    def energy_mj(self, gpus: list[int]) -> dict[int, int] | None:
        """The energy counters of ``gpus``, or None unless every one of them has one."""
        if not gpus or self._nvml is None:
            return None
        counters: dict[int, int] = {}
        for gpu in gpus:
            reading = self._nvml.read(gpu)
            if reading is None or reading.energy_mj is None:
                return None
            counters[gpu] = reading.energy_mj
        return counters

    def close(self) -> None:
        if self._nvml is not None:
            self._nvml.close()
