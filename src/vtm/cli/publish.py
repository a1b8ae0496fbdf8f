"""`vtm publish`: ask the server to publish a task's best model, and show what it did.

Exit codes: 0 published (or already), 3 not published (the task's floor or the gate refused the
model: a decision, not a failure), 2 the server refused or failed, 1 no server answered.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vtm.cli.calls import api_call, fail
from vtm.cli.client import ApiError, VtmClient
from vtm.cli.runids import resolve_run_id

console = Console()
err = Console(stderr=True)
# The request's fields and the options that set them, for the server's per-field errors.
FLAGS = {
    "task": "TASK",
    "metric": "--metric",
    "goal": "--goal",
    "since": "--since",
    "alias": "--alias",
    "runId": "--run",
}
NOT_PUBLISHED = 3


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
    run: Annotated[
        str | None,
        typer.Option(
            "--run", help="Publish this completed run (an id or its start), not the best."
        ),
    ] = None,
    url: Annotated[
        str, typer.Option("--url", envvar="VTM_URL", help="The VTM server.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="VTM_TOKEN", help="API token, if the server wants one."),
    ] = None,
) -> None:
    """Publish TASK's best model to the MLflow and FTP registries.

    The best run by the metric is chosen among the task's completed runs (or --run); if it
    passes the task's floor (publish.minMetric in the catalog) its model is registered in MLflow
    as a new version, uploaded to the FTP registry (VTM_FTP_URL on the server) with a model
    card, and the alias is set on it. Exits 3 when the floor refused it.
    """
    if goal is not None and goal not in ("max", "min"):
        err.print(f"[red]error:[/] --goal: {goal!r} is not max or min")
        raise typer.Exit(2)
    body: dict[str, Any] = {"task": task, "alias": alias}
    client = VtmClient(url, token)
    try:
        run_id = resolve_run_id(client, run) if run else None
        given = (("metric", metric), ("goal", goal), ("since", since), ("runId", run_id))
        body.update({k: v for k, v in given if v})
        result = api_call(lambda: _publish(client, body, metric), flags=FLAGS)
    finally:
        client.close()
    show(result)


def _publish(client: VtmClient, body: dict[str, Any], metric: str | None) -> dict[str, Any]:
    try:
        return client.publish(body)
    except ApiError as exc:
        if exc.code == "not_published":
            raise fail(exc.message, NOT_PUBLISHED) from exc
        # --goal was checked above, so the server's only complaint about the goal is that it
        # cannot tell one: say so in this command's words rather than the API's.
        if metric and [f["field"] for f in exc.fields] == ["goal"]:
            hint = f"is {metric!r} better high or low? give --goal max|min"
            raise ApiError(exc.status, hint, [{"field": "goal", "message": hint}]) from exc
        raise


def show(r: dict[str, Any]) -> None:
    m = r["metric"]
    state = "[yellow]already published[/]" if r["alreadyPublished"] else "[green]published[/]"
    console.print(
        f"{state} {r['registeredModel']} version [bold]{r['version']}[/] "
        f"(alias {r['alias']}) from run [bold]{r['vtmRunId']}[/]"
    )
    table = Table(show_header=False, box=None)
    table.add_row("[bold]metric[/]", f"{m['name']} = {m['value']:.6g} ({m['goal']})")
    verdict = r.get("verdict")
    if verdict:
        champion = (
            f", champion v{verdict['championVersion']} had {verdict['championValue']:.6g}"
            if verdict.get("championValue") is not None
            else ""
        )
        table.add_row(
            "[bold]judged by[/]", f"{verdict['metric']} = {verdict['value']:.6g}{champion}"
        )
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
