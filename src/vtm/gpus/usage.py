"""GPU-hours: what a run's record and the quality report both count."""

from __future__ import annotations

from datetime import datetime


def gpu_hours(
    gpus: int, started_at: datetime | None, finished_at: datetime | None, now: datetime
) -> float:
    """GPUs held times hours held, from the start to the end (to ``now`` for a run still
    going); 0 for a run that held none or has not started."""
    if not gpus or started_at is None:
        return 0.0
    return gpus * max(0.0, ((finished_at or now) - started_at).total_seconds()) / 3600
