"""Reading a run's output.log in pages for people (API, CLI)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LogSlice:
    text: str
    next_offset: int
    size: int


def read_log_page(path: Path, offset: int, limit: int) -> LogSlice:
    """Up to ``limit`` bytes from ``offset``, cut back to the last newline when there is one
    so a page never splits a line (or a UTF-8 sequence) that the next page would finish."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if offset >= size:
                return LogSlice("", offset, size)
            fh.seek(offset)
            data = fh.read(limit)
    except FileNotFoundError:
        return LogSlice("", 0, 0)
    if offset + len(data) < size:
        cut = data.rfind(b"\n")
        if cut >= 0:
            data = data[: cut + 1]
    return LogSlice(data.decode("utf-8", errors="replace"), offset + len(data), size)
