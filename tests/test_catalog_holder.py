"""CatalogHolder: keeps the last good catalog, reports the error, hot-reloads a real file."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from vtm.catalog import CatalogHolder
from vtm.errors import CatalogError

GOOD = """\
version: 1
baseTaskTypes:
  cls:
    fields:
      epochs: {type: int, default: 10}
tasks:
  t1:
    baseTaskType: cls
    runner: {target: train.py}
"""
FIXED = GOOD + "  t2:\n    baseTaskType: cls\n    runner: {target: train.py}\n"
BROKEN = GOOD.replace("baseTaskType: cls", "baseTaskType: nope")  # error on line 8


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("")
    path = tmp_path / "training_catalog.yaml"
    path.write_text(GOOD)
    return path


def test_require_before_any_load(catalog_file: Path) -> None:
    holder = CatalogHolder(catalog_file)
    assert holder.path == catalog_file
    assert holder.current is None
    assert holder.error is None
    with pytest.raises(CatalogError, match="not been loaded"):
        holder.require()


def test_first_load_failing_raises_its_error_from_require(tmp_path: Path) -> None:
    holder = CatalogHolder(tmp_path / "missing.yaml")
    assert holder.reload() is False
    assert holder.current is None
    with pytest.raises(CatalogError) as info:
        holder.require()
    assert info.value is holder.error


def test_reload_keeps_the_last_good_catalog(catalog_file: Path) -> None:
    holder = CatalogHolder(catalog_file)
    calls: list[bool] = []
    holder.add_listener(lambda: calls.append(holder.error is None))
    assert holder.reload() is True
    good = holder.require()

    catalog_file.write_text(BROKEN)
    assert holder.reload() is False
    assert holder.current is good
    assert holder.require() is good
    assert holder.error is not None
    assert (holder.error.line, holder.error.key) == (8, "tasks.t1.baseTaskType")

    catalog_file.write_text(FIXED)
    assert holder.reload() is True
    assert holder.error is None
    assert list(holder.require().catalog.tasks) == ["t1", "t2"]
    assert calls == [True, False, True]


def atomic_write(path: Path, text: str) -> None:
    """Save the way editors do: write a temporary file, then rename it over the original."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def edit_until(
    reloaded: asyncio.Event, edit: Callable[[], object], done: Callable[[], bool]
) -> None:
    """Apply ``edit`` until a reload leaves the holder in the ``done`` state.

    watchfiles gives no signal once its watcher is armed, so an edit made before then goes
    unseen; the (idempotent) edit is repeated whenever no reload follows it soon.
    """
    for _ in range(40):
        reloaded.clear()
        edit()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reloaded.wait(), timeout=0.3)
        if done():
            return
    raise AssertionError("the watcher never picked up the edit")


Scenario = Callable[[CatalogHolder, asyncio.Event], Coroutine[Any, Any, None]]


def run_watching(path: Path, scenario: Scenario) -> None:
    async def main() -> None:
        holder = CatalogHolder(path)
        assert holder.reload()
        reloaded = asyncio.Event()
        holder.add_listener(reloaded.set)
        stop = asyncio.Event()
        watcher = asyncio.create_task(holder.watch(stop))
        try:
            await scenario(holder, reloaded)
        finally:
            stop.set()
            await asyncio.wait_for(watcher, timeout=10)

    asyncio.run(main())


def test_watch_keeps_last_good_on_broken_edit_and_picks_up_the_fix(catalog_file: Path) -> None:
    async def scenario(holder: CatalogHolder, reloaded: asyncio.Event) -> None:
        good = holder.require()

        def broken() -> bool:
            return holder.error is not None and holder.error.line == 8

        await edit_until(reloaded, lambda: catalog_file.write_text(BROKEN), broken)
        assert holder.current is good
        assert holder.error is not None
        assert holder.error.key == "tasks.t1.baseTaskType"

        def fixed() -> bool:
            current = holder.current
            return holder.error is None and current is not None and "t2" in current.catalog.tasks

        await edit_until(reloaded, lambda: catalog_file.write_text(FIXED), fixed)
        assert holder.require().digest != good.digest

    run_watching(catalog_file, scenario)


def test_watch_follows_atomic_saves_and_delete_then_create(catalog_file: Path) -> None:
    async def scenario(holder: CatalogHolder, reloaded: asyncio.Event) -> None:
        def has_t2() -> bool:
            current = holder.current
            return current is not None and "t2" in current.catalog.tasks

        await edit_until(reloaded, lambda: atomic_write(catalog_file, FIXED), has_t2)
        assert holder.error is None

        def missing() -> bool:
            return holder.error is not None and "cannot read" in holder.error.message

        await edit_until(reloaded, lambda: catalog_file.unlink(missing_ok=True), missing)
        assert has_t2(), "the last good catalog stays while the file is gone"

        def back() -> bool:
            return holder.error is None and not has_t2()

        await edit_until(reloaded, lambda: catalog_file.write_text(GOOD), back)

    run_watching(catalog_file, scenario)


def test_watch_ignores_other_files_in_the_folder(catalog_file: Path) -> None:
    async def scenario(holder: CatalogHolder, reloaded: asyncio.Event) -> None:
        def has_t2() -> bool:
            current = holder.current
            return current is not None and "t2" in current.catalog.tasks

        # First make sure the watcher is armed: it has seen a catalog edit.
        await edit_until(reloaded, lambda: catalog_file.write_text(FIXED), has_t2)
        reloaded.clear()
        (catalog_file.parent / "notes.txt").write_text("not the catalog")
        # Proving that nothing happens needs a bound; it is well above the 100 ms debounce.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reloaded.wait(), timeout=0.5)

    run_watching(catalog_file, scenario)
