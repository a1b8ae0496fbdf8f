"""Which of the server's GPUs are held by its runs: never one GPU by two runs."""

from __future__ import annotations

import threading


class GpuPool:
    def __init__(self, gpus: list[int]) -> None:
        self.all = sorted(gpus)
        self._holder: dict[int, str] = {}
        self._lock = threading.Lock()

    def free(self) -> set[int]:
        with self._lock:
            return {g for g in self.all if g not in self._holder}

    def holders(self) -> dict[int, str]:
        """``{GPU index: the run holding it}``."""
        with self._lock:
            return dict(self._holder)

    def take(self, run_id: str, gpus: list[int]) -> bool:
        """Give ``gpus`` to ``run_id``, all or none: False if any is held already (or not
        the server's to give)."""
        with self._lock:
            if any(g in self._holder or g not in self.all for g in gpus):
                return False
            self._holder.update(dict.fromkeys(gpus, run_id))
            return True

    def claim(self, run_id: str, gpus: list[int]) -> None:
        """Mark GPUs held by a run found still going at start-up."""
        with self._lock:
            self._holder.update({g: run_id for g in gpus if g in self.all})

    def release(self, run_id: str) -> None:
        """Free whatever ``run_id`` holds (nothing, if it held none)."""
        with self._lock:
            for gpu in [g for g, holder in self._holder.items() if holder == run_id]:
                del self._holder[gpu]
