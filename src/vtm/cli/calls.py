"""Running a client call from a command: API and connection errors become clear messages and
exit codes (2: the server refused, 1: no server answered)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from vtm_client import ApiError, Unreachable, VtmClient

err = Console(stderr=True)
T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    # The message is text, not markup: a "[prepare]" in it must be printed, not taken for a
    # style. soft_wrap keeps each line whole, so "file:line: key" can be copied or grepped.
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def api_call(call: Callable[[], T], flags: Mapping[str, str] | None = None) -> T:
    """Run a client call; turn API and connection errors into clear messages.

    ``flags`` names the command's option for a request field (``{"since": "--since"}``), so
    an error about a field says which option to change.
    """
    try:
        return call()
    except ApiError as exc:
        if exc.fields:
            for f in exc.fields:
                line = f"{(flags or {}).get(f['field'], f['field'])}: {f['message']}"
                err.print(f"[red]error:[/] {escape(line)}", soft_wrap=True)
            raise typer.Exit(2) from exc
        raise fail(exc.message, 2) from exc
    except Unreachable as exc:
        raise fail(unreachable_message(exc)) from exc


def unreachable_message(exc: Unreachable) -> str:
    if exc.path == "/api/events":  # it answered, then stayed away past the reconnect window
        return f"lost the VTM server at {exc.url}: {exc.reason}"
    return f"no VTM server at {exc.url} ({exc.reason}); start one with `vtm serve`"


def client(url: str, token: str | None, timeout: float = 30.0) -> VtmClient:
    """The commands' client: no retries, a command says at once that no server answers."""
    return VtmClient(url, token, timeout=timeout, retry_seconds=0)
