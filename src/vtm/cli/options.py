"""The options and arguments several commands share, and how `--set key=value` is read."""

from __future__ import annotations

from typing import Annotated

import typer

from vtm.cli.calls import fail

UrlOpt = Annotated[str, typer.Option("--url", envvar="VTM_URL", help="The VTM server.")]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", envvar="VTM_TOKEN", help="API token, if the server wants one."),
]
RunIdArg = Annotated[
    str,
    typer.Argument(
        metavar="RUN_ID",
        help="Run id, or enough of its start to name one run (20261202-015825).",
    ),
]
FollowOpt = Annotated[bool, typer.Option("--follow", "-f", help="Show progress until it ends.")]
SetOpt = Annotated[
    list[str], typer.Option("--set", "-s", help="A field value, key=value; repeatable.")
]
PriorityOpt = Annotated[
    int | None,
    typer.Option(
        "--priority", "-p", help="Its place in the queue, higher first (default: the task's)."
    ),
]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        "-e",
        help="Where it trains: local (the server's machine) or ray (the server's Ray "
        "cluster); default: the task's.",
    ),
]
DEFAULT_URL = "http://127.0.0.1:8000"


def parse_sets(values: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise fail(f"--set wants key=value, got {item!r}", 2)
        fields[name.strip()] = value
    return fields
