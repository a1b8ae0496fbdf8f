"""`vtm publish`: ask the server to publish a task's best model, and show what it did.

Exit codes: 0 published (or already), 3 not published (the task's floor or the gate refused the
model: a decision, not a failure), 2 the server refused or failed, 1 no server answered.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table
from vtm_client import ApiError, FieldError, Goal, VtmClient

from vtm.cli.calls import api_call, client, fail
from vtm.cli.options import DEFAULT_URL, TokenOpt, UrlOpt
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
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
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
    with client(url, token) as vtm:
        run_id = resolve_run_id(vtm, run) if run else None
        result = api_call(
            lambda: _publish(vtm, task, metric, cast(Goal | None, goal), since, alias, run_id),
            flags=FLAGS,
        )
    show(result)


def _publish(
    vtm: VtmClient,
    task: str,
    metric: str | None,
    goal: Goal | None,
    since: str | None,
    alias: str,
    run_id: str | None,
) -> dict[str, Any]:
    try:
        return vtm.publish(
            task, run_id=run_id, metric=metric or None, goal=goal, since=since or None, alias=alias
        )
    except ApiError as exc:
        if exc.code == "not_published":
            raise fail(exc.message, NOT_PUBLISHED) from exc
        # --goal was checked above, so the server's only complaint about the goal is that it
        # cannot tell one: say so in this command's words rather than the API's.
        if metric and [f["field"] for f in exc.fields] == ["goal"]:
            hint = f"is {metric!r} better high or low? give --goal max|min"
            fields = [FieldError(field="goal", message=hint)]
            raise ApiError(exc.status, exc.code, hint, fields) from exc
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
