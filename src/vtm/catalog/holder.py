"""The server's live catalog: the last good one, the current error, and hot reload.

A broken edit never takes the catalog away: ``current`` keeps the last catalog that loaded and
``error`` says what is wrong with the file now. ``watch()`` reloads on every change to the file,
including editors' atomic saves (write elsewhere, rename over) and delete-then-create, which is
why it watches the file's folder rather than the file itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from vtm.catalog.loader import LoadedCatalog, load_catalog
from vtm.errors import CatalogError

# Changes are gathered for at most this long before a reload; editors save in bursts.
DEBOUNCE_MS = 100
STEP_MS = 30


class CatalogHolder:
    """Holds the catalog at ``path``. Nothing is read until the first ``reload()``."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path).expanduser().absolute()
        self._current: LoadedCatalog | None = None
        self._error: CatalogError | None = None
        self._listeners: list[Callable[[], None]] = []
        # _state guards the (current, error) pair for readers on other threads; _reloading
        # keeps two reloads from finishing out of order and installing the older file.
        self._state = threading.Lock()
        self._reloading = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def current(self) -> LoadedCatalog | None:
        with self._state:
            return self._current

    @property
    def error(self) -> CatalogError | None:
        with self._state:
            return self._error

    def require(self) -> LoadedCatalog:
        """The current catalog; CatalogError when none has ever loaded."""
        with self._state:
            current, error = self._current, self._error
        if current is not None:
            return current
        raise error or CatalogError("the catalog has not been loaded yet", file=str(self._path))

    def add_listener(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` after every reload attempt, successful or not. It must not raise."""
        self._listeners.append(fn)

    def reload(self) -> bool:
        """Load the file again. True if it loaded; else the last good catalog stays."""
        with self._reloading:
            try:
                loaded = load_catalog(self._path)
            except CatalogError as exc:
                with self._state:
                    self._error = exc
                ok = False
            else:
                with self._state:
                    self._current, self._error = loaded, None
                ok = True
        for listener in list(self._listeners):
            listener()
        return ok

    def _is_catalog(self, change: Change, path: str) -> bool:
        return Path(path).name == self._path.name

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload whenever the catalog file changes, until ``stop`` is set."""
        async for _changes in awatch(
            self._path.parent,
            watch_filter=self._is_catalog,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=stop,
            recursive=False,
        ):
            self.reload()
