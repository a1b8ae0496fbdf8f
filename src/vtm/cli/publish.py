"""`vtm publish`: ask the server to publish a task's best model, and show what it did."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vtm.cli.calls import api_call
from vtm.cli.client import VtmClient

console = Console()
err = Console(stderr=True)


def publish(
    task: Annotated[str, typer.Argument(help="Task id from the catalog.")],
    metric: Annotated[
        str | None,
        typer.Option("--metric", help="Rank runs by this metric; default: the primary metric."),
    ] = None,
    goal: Annotated[
        str | None,
        typer.Option("--goal", help="max or min; default: the primary metric's goal."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help='Only runs finished in the last "7d", "12h"…; default: all.'),
    ] = None,
    alias: Annotated[
        str, typer.Option("--alias", help="Registry alias to point at the version.")
    ] = "champion",
    url: Annotated[
        str, typer.Option("--url", envvar="VTM_URL", help="The VTM server.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="VTM_TOKEN", help="API token, if the server wants one."),
    ] = None,
) -> None:
    """Publish TASK's best finished run: register its model in MLflow, upload it to the FTP
    registry (VTM_FTP_URL on the server) with a model card, and set the alias."""
    if goal is not None and goal not in ("max", "min"):
        err.print(f"[red]error:[/] --goal: {goal!r} is not max or min")
        raise typer.Exit(2)
    body: dict[str, Any] = {"task": task, "alias": alias}
    body.update({k: v for k, v in (("metric", metric), ("goal", goal), ("since", since)) if v})
    client = VtmClient(url, token)
    try:
        result = api_call(lambda: client.publish(body))
    finally:
        client.close()
    show(result)


def show(r: dict[str, Any]) -> None:
    m = r["metric"]
    state = "[yellow]already published[/]" if r["alreadyPublished"] else "[green]published[/]"
    console.print(
        f"{state} {r['registeredModel']} version [bold]{r['version']}[/] "
        f"(alias {r['alias']}) from run [bold]{r['vtmRunId']}[/]"
    )
    table = Table(show_header=False, box=None)
    table.add_row("[bold]metric[/]", f"{m['name']} = {m['value']:.6g} ({m['goal']})")
    table.add_row("[bold]mlflow run[/]", r["mlflowRunId"])
    table.add_row("[bold]model[/]", r["modelUri"])
    ftp = r.get("ftp")
    if ftp:
        table.add_row("[bold]ftp[/]", f"{ftp['url']} {ftp['folder']}")
        for f in ftp["files"]:
            table.add_row("", f"{f['name']}  {f['size']} B  sha256 {f['sha256'][:16]}…")
    console.print(table)
    for note in r.get("notes", []):
        console.print(f"  {note}")
