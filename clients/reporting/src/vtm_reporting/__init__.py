"""Report a trainer's progress to VTM: one protocol line per call, on stdout, flushed.

    from vtm_reporting import meta, progress
    meta(mlflow_run_id=run.info.run_id)
    progress(epoch=3, total_epochs=10, val_accuracy=0.91, device="cuda:0")

Numeric values are metrics, others attributes; ``step`` (the trainer's own step count) is the
metrics' x-axis when given. Non-finite floats (NaN, inf) are sent as null: JSON has no
spelling for them. Framework callbacks: ``vtm_reporting.lightning``, ``.huggingface``,
``.keras``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "META_PREFIX",
    "PROGRESS_PREFIX",
    "emit",
    "meta",
    "numbers",
    "progress",
    "run_dir",
    "run_id",
    "tensorboard_dir",
]

PROGRESS_PREFIX = "VTM_PROGRESS::"
META_PREFIX = "VTM_RUN_META::"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _finite(value.item())
    return value


def _write(line: str, out: TextIO) -> None:
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None and getattr(tqdm.tqdm, "_instances", None):
        # A bar is on screen: tqdm clears it, prints the line, draws it again below.
        tqdm.tqdm.write(line, file=out)
        out.flush()
        return
    out.write(line + "\n")
    out.flush()


def emit(prefix: str, data: dict[str, Any], stream: TextIO | None = None) -> None:
    """One protocol line: ``prefix`` and ``data`` as JSON."""
    line = prefix + json.dumps({k: _finite(v) for k, v in data.items()}, default=str)
    _write(line, stream if stream is not None else sys.stdout)


def progress(epoch: float | None = None, total_epochs: float | None = None, **values: Any) -> None:
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
    """The VTM run this process is, or None outside VTM."""
    return os.environ.get("VTM_RUN_ID")


def run_dir() -> Path | None:
    value = os.environ.get("VTM_RUN_DIR")
    return Path(value) if value else None


def tensorboard_dir() -> Path | None:
    """Where VTM's TensorBoard looks for this run's event files."""
    value = os.environ.get("VTM_TENSORBOARD_DIR")
    return Path(value) if value else None


def numbers(values: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of ``values`` (tensors and numpy scalars turned into floats): what a
    framework's logs hold that VTM can chart."""
    found: dict[str, float] = {}
    for key, value in values.items():
        value = _finite(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found[key] = float(value)
    return found
