"""`vtm report`: fetch the quality report from the server and write or print it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vtm.cli.calls import api_call
from vtm.cli.client import VtmClient

FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}

err = Console(stderr=True)


def _format(out: Path | None, given: str | None) -> str:
    if given is not None:
        if given not in ("html", "md", "json"):
            err.print(f"[red]error:[/] --format: {given!r} is not one of html, md, json")
            raise typer.Exit(2)
        return given
    if out is None:
        return "md"
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        err.print(
            f"[red]error:[/] --out: cannot tell the format from {out.name!r}; "
            "name it .html or .md, or give --format"
        )
        raise typer.Exit(2)
    return fmt


def report(
    since: Annotated[
        str, typer.Option("--since", help='Runs created in the last "7d", "12h", "90m"…')
    ] = "7d",
    task: Annotated[str | None, typer.Option("--task", help="Only this task.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write here; .html or .md. Default: Markdown on stdout."),
    ] = None,
    format_: Annotated[
        str | None, typer.Option("--format", help="html, md or json; overrides --out's suffix.")
    ] = None,
    url: Annotated[
        str, typer.Option("--url", envvar="VTM_URL", help="The VTM server.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="VTM_TOKEN", help="API token, if the server wants one."),
    ] = None,
) -> None:
    """Write the quality report: success, failures, MTTR, durations.

    Per task, over the runs created within --since: success rate, failures and their reasons,
    MTTR, duration percentiles, the primary metric, manual interventions and streaks.
    """
    fmt = _format(out, format_)
    client = VtmClient(url, token, timeout=120.0)
    try:
        body = api_call(
            lambda: client.report(fmt, since, task), flags={"since": "--since", "task": "--task"}
        )
    finally:
        client.close()
    if out is None:
        sys.stdout.write(body)
        sys.stdout.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    err.print(f"wrote the {fmt} report to {out}")
