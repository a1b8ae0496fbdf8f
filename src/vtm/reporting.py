"""Emit VTM protocol lines from a trainer: ``vtm_reporting`` (clients/reporting), under the
name trainers that run in VTM's own environment have always imported.

    from vtm import reporting
    reporting.progress(epoch=3, total_epochs=10, val_accuracy=0.91, device="cuda:0")

A trainer in an environment of its own installs ``vtm-reporting`` there instead.
"""

from __future__ import annotations

from vtm_reporting import (
    META_PREFIX,
    PROGRESS_PREFIX,
    emit,
    meta,
    progress,
    run_dir,
    run_id,
    tensorboard_dir,
)

__all__ = [
    "META_PREFIX",
    "PROGRESS_PREFIX",
    "emit",
    "meta",
    "progress",
    "run_dir",
    "run_id",
    "tensorboard_dir",
]
