"""Emit VTM protocol lines from a trainer. Standard library only, so any trainer may import it.

    from vtm import reporting
    reporting.meta(mlflow_run_id=run.info.run_id)
    reporting.progress(epoch=3, total_epochs=10, val_accuracy=0.91, device="cuda:0")

Each call prints one line to stdout and flushes it, so VTM sees it at once even when stdout
is a file. Non-finite floats (NaN, inf) are sent as null: JSON has no spelling for them.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any, TextIO

PROGRESS_PREFIX = "VTM_PROGRESS::"
META_PREFIX = "VTM_RUN_META::"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _finite(value.item())
    return value


def emit(prefix: str, data: dict[str, Any], stream: TextIO | None = None) -> None:
    line = prefix + json.dumps({k: _finite(v) for k, v in data.items()}, default=str)
    out = stream if stream is not None else sys.stdout
    out.write(line + "\n")
    out.flush()


def progress(epoch: int | None = None, total_epochs: int | None = None, **values: Any) -> None:
    """Report progress: ``epoch``/``total_epochs``, numeric metrics and other attributes."""
    data: dict[str, Any] = {}
    if epoch is not None:
        data["epoch"] = epoch
    if total_epochs is not None:
        data["total_epochs"] = total_epochs
    data.update(values)
    emit(PROGRESS_PREFIX, data)


def meta(**values: Any) -> None:
    """Report facts about the run, such as ``mlflow_run_id``."""
    emit(META_PREFIX, values)


def run_id() -> str | None:
    return os.environ.get("VTM_RUN_ID")


def run_dir() -> Path | None:
    value = os.environ.get("VTM_RUN_DIR")
    return Path(value) if value else None


def tensorboard_dir() -> Path | None:
    value = os.environ.get("VTM_TENSORBOARD_DIR")
    return Path(value) if value else None
