"""The server's GPUs: what there is (inventory, through the NVML seam) and who holds what."""

from vtm.gpus.inventory import GpuSpec, Inventory
from vtm.gpus.nvml import GpuReading, Nvml, open_nvml
from vtm.gpus.pool import GpuPool

__all__ = ["GpuPool", "GpuReading", "GpuSpec", "Inventory", "Nvml", "open_nvml"]
