"""`vtm report`: fetch the quality report from the server and write or print it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from vtm_client import ReportFormat

from vtm.cli.calls import api_call, client
from vtm.cli.options import DEFAULT_URL, TokenOpt, UrlOpt

FORMATS: dict[str, ReportFormat] = {
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".json": "json",
}

err = Console(stderr=True)


def _format(out: Path | None, given: str | None) -> ReportFormat:
    if given is not None:
        if given not in ("html", "md", "json"):
            err.print(f"[red]error:[/] --format: {given!r} is not one of html, md, json")
            raise typer.Exit(2)
        return cast(ReportFormat, given)
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
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Write the quality report: success, failures, MTTR, durations.

    Per task, over the runs created within --since: success rate, failures and their reasons,
    MTTR, duration percentiles, the primary metric, manual interventions and streaks.
    """
    fmt = _format(out, format_)
    with client(url, token, timeout=120.0) as vtm:
        body = api_call(
            lambda: vtm.report_text(fmt, since=since, task=task),
            flags={"since": "--since", "task": "--task"},
        )
    if out is None:
        sys.stdout.write(body)
        sys.stdout.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    err.print(f"wrote the {fmt} report to {out}")
