"""The files a trainer wrote in its run's folder (``runner.workdir: run``: runs/<id>/work/),
listed a folder at a time and served one file at a time, never anything outside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vtm.catalog._runner import inside_root
from vtm.errors import NotFound
from vtm.relpath import relative_path

WHERE = "the run's work folder"


@dataclass(frozen=True)
class WorkEntry:
    path: str  # relative to the work folder, "/"-separated
    name: str
    is_dir: bool
    size: int | None  # None for a folder


def _inside(root: Path, relative: str) -> Path:
    """The real path of ``relative`` below ``root``; NotFound when it is missing or a link
    leads out of the folder."""
    try:
        found = inside_root(root, relative)
    except ValueError:
        found = None
    if found is None or not found.exists():
        raise NotFound(f"no {relative or 'work folder'!r} in {WHERE}")
    return found


def list_folder(work_dir: Path, path: str | None) -> tuple[str, list[WorkEntry]]:
    """(the folder's relative path, its entries: folders first, then files, by name)."""
    relative = relative_path(path, WHERE)
    folder = _inside(work_dir, relative)
    if not folder.is_dir():
        raise NotFound(f"{relative!r} is a file, not a folder, in {WHERE}")
    entries: list[WorkEntry] = []
    with os.scandir(folder) as listing:
        for item in listing:
            inner = f"{relative}/{item.name}" if relative else item.name
            try:
                real = _inside(work_dir, inner)  # a link that leads out is not listed
            except NotFound:
                continue
            is_dir = real.is_dir()
            entries.append(
                WorkEntry(inner, item.name, is_dir, None if is_dir else real.stat().st_size)
            )
    entries.sort(key=lambda e: (not e.is_dir, e.name))
    return relative, entries


def work_file(work_dir: Path, path: str | None) -> Path:
    """The file to send for ``path``."""
    relative = relative_path(path, WHERE)
    found = _inside(work_dir, relative)
    if not found.is_file():
        raise NotFound(f"{relative!r} is not a file in {WHERE}")
    return found
