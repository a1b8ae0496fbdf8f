"""Running a client call from a command: API and connection errors become clear messages and
exit codes (2: the server refused, 1: no server answered)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from vtm.cli.client import ApiError, Unreachable

err = Console(stderr=True)
T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def api_call(call: Callable[[], T]) -> T:
    """Run a client call; turn API and connection errors into clear messages."""
    try:
        return call()
    except ApiError as exc:
        if exc.fields:
            for f in exc.fields:
                err.print(f"[red]error:[/] {f['field']}: {f['message']}")
            raise typer.Exit(2) from exc
        raise fail(exc.message, 2) from exc
    except Unreachable as exc:
        raise fail(str(exc)) from exc
