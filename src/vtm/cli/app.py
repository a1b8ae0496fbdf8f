"""The `vtm` command line. Every command but `serve` and `catalog check` talks to a running
server over HTTP (VTM_URL, default http://127.0.0.1:8000)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from vtm_client import VtmClient, VtmClientError

from vtm import __version__
from vtm.cli.calls import api_call, client, fail
from vtm.cli.follow import EXIT_NOT_FOLLOWED, TERMINAL, exit_code_for, follow, metrics_text
from vtm.cli.options import (
    DEFAULT_URL,
    ExecutorOpt,
    FollowOpt,
    PriorityOpt,
    RunIdArg,
    SetOpt,
    TokenOpt,
    UrlOpt,
    parse_sets,
)
from vtm.cli.publish import publish
from vtm.cli.queue import queue
from vtm.cli.report import report
from vtm.cli.runids import resolve_run_id
from vtm.cli.runs_table import runs_table
from vtm.exec.command import exec_command, exec_spare_command

# `vtm --help` lists the commands in the order a person meets them, not alphabetically.
ORDER = (
    "serve",
    "run",
    "runs",
    "show",
    "logs",
    "stop",
    "queue",
    "rerun",
    "exec",
    "exec-spare",
    "publish",
    "report",
    "catalog",
    "version",
)


class _InOrder(typer.core.TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))


app = typer.Typer(
    cls=_InOrder,
    rich_markup_mode="markdown",
    help="VTM: start, watch and stop training runs defined in training_catalog.yaml.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(
    help="Work with the training catalog.", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(catalog_app, name="catalog")
app.command("report")(report)
app.command("queue")(queue)
app.command("publish")(publish)
app.command("exec")(exec_command)
app.command("exec-spare")(exec_spare_command)

console = Console()
err = Console(stderr=True)


def _api(call: Any) -> Any:
    return api_call(call)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(envvar="VTM_HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="VTM_PORT", help="Port to listen on.")] = 8000,
    catalog: Annotated[
        Path | None, typer.Option(envvar="VTM_CATALOG", help="The training catalog file.")
    ] = None,
    home: Annotated[Path | None, typer.Option(envvar="VTM_HOME", help="Data home.")] = None,
    mlflow_server: Annotated[
        bool | None,
        typer.Option(
            "--mlflow-server/--no-mlflow-server",
            help="Run `mlflow server` over the embedded store (default: VTM_MLFLOW_SERVER).",
            show_default=False,
        ),
    ] = None,
    tensorboard: Annotated[
        bool | None,
        typer.Option(
            "--tensorboard/--no-tensorboard",
            help="Run TensorBoard over the runs' event files (default: VTM_TENSORBOARD_SERVER).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the VTM server: the REST API, the web UI and the runs."""
    from vtm.api.server import serve as serve_app
    from vtm.integrations.side_servers import check_settings
    from vtm.settings import Settings

    overrides: dict[str, Any] = {"host": host, "port": port}
    if catalog is not None:
        overrides["catalog"] = catalog
    if home is not None:
        overrides["home"] = home
    if mlflow_server is not None:
        overrides["mlflow_server"] = mlflow_server
    if tensorboard is not None:
        overrides["tensorboard_server"] = tensorboard
    settings = Settings(**overrides)
    try:
        settings.require_safe_binding()
        check_settings(settings)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"VTM {__version__}: catalog {settings.catalog}, data in {settings.home}, "
        f"http://{settings.host}:{settings.port}"
    )
    if settings.mlflow_server:
        console.print(f"MLflow server: http://127.0.0.1:{settings.mlflow_port} (starting)")
    if settings.tensorboard_server:
        console.print(f"TensorBoard: http://127.0.0.1:{settings.tensorboard_port} (starting)")
    serve_app(settings)


@app.command()
def run(
    task: Annotated[str, typer.Argument(help="Task id from the catalog.")],
    set_: SetOpt = [],  # noqa: B006
    follow_: FollowOpt = False,
    priority: PriorityOpt = None,
    executor: ExecutorOpt = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Start a run of TASK; --follow watches it to the end.

    With --follow, `vtm run` exits with the run's outcome: 0 completed, the trainer's exit code
    when it failed, 130 when a person stopped it; Ctrl-C stops following (exit 75), not the run.
    """
    fields = parse_sets(set_)
    with client(url, token) as vtm:
        _start(vtm, task, fields, follow_, priority=priority, executor=executor)


@app.command()
def rerun(
    run_id: RunIdArg,
    set_: Annotated[
        list[str],
        typer.Option("--set", "-s", help="Change a field, key=value; repeatable."),
    ] = [],  # noqa: B006
    follow_: FollowOpt = False,
    priority: PriorityOpt = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Run a run's task again with its fields, changed by --set.

    The new run has the old run's field values, each --set replacing one; --follow behaves as
    with `vtm run`.
    """
    changes = parse_sets(set_)
    with client(url, token) as vtm:
        rid = resolve_run_id(vtm, run_id)
        old = _api(lambda: vtm.get_run(rid))
        # A field without a value (None) takes its default anyway; leaving it out also keeps
        # a field the catalog has dropped since from failing the new run.
        fields = {k: v for k, v in old["fields"].items() if v is not None}
        fields.update(changes)
        note = f" from {old['id']}"
        if changes:
            note += " with " + ", ".join(f"{k}={v}" for k, v in changes.items())
        _start(vtm, old["taskId"], fields, follow_, note, priority)


def _start(
    vtm: VtmClient,
    task: str,
    fields: dict[str, Any],
    follow_: bool,
    note: str = "",
    priority: int | None = None,
    executor: str | None = None,
) -> None:
    """Start the run; with ``follow_``, watch it and exit with its outcome."""
    record: dict[str, Any] | None = None
    try:
        record = _api(lambda: vtm.start_run(task, fields, priority=priority, executor=executor))
        console.print(f"started run [bold]{record['id']}[/] ({record['status']}){escape(note)}")
        if record.get("queue"):
            console.print(
                f"  queued #{record['queue']['position']}: {escape(record['queue']['reason'])}"
            )
        if not follow_:
            return
        final = _api(lambda: follow(vtm, record["id"], console))
    except KeyboardInterrupt:
        if record is None:
            raise  # nothing was started, or we cannot know: Click says "Aborted!"
        err.print(
            f"stopped following; the run goes on. `vtm show {record['id']}` tells how it ends, "
            f"`vtm stop {record['id']}` stops it."
        )
        raise typer.Exit(EXIT_NOT_FOLLOWED) from None
    _summary(final)
    raise typer.Exit(exit_code_for(final))


def _summary(run: dict[str, Any]) -> None:
    colour = {"completed": "green", "failed": "red", "stopped": "yellow"}.get(
        run["status"], "white"
    )
    line = f"run {run['id']} [{colour}]{run['status']}[/]"
    if run.get("exitCode") is not None:
        line += f" (exit code {run['exitCode']})"
    console.print(line)
    if run.get("error"):
        console.print(f"  {escape(run['error'])}")
    metrics = metrics_text(run.get("progress") or {})
    if metrics:
        console.print(f"  {escape(metrics)}")


@app.command("runs")
def list_runs(
    status: Annotated[list[str], typer.Option("--status", help="Filter by status.")] = [],  # noqa: B006
    task: Annotated[str | None, typer.Option("--task", help="Filter by task id.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """List runs, newest first, with each task's primary metric."""
    with client(url, token) as vtm:
        page = _api(lambda: vtm.list_runs(status=status, task_id=task, limit=limit))
        metrics = _primary_metrics(vtm)
    console.print(runs_table(page["runs"], metrics, console.width))


def _primary_metrics(vtm: VtmClient) -> dict[str, str]:
    """Task id → its primary metric's name, from the server's catalog."""
    try:
        tasks = vtm.catalog()["tasks"]
    except VtmClientError:
        return {}
    return {t["id"]: t["primaryMetric"]["name"] for t in tasks if t.get("primaryMetric")}


@app.command()
def show(
    run_id: RunIdArg,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Show everything about one run."""
    with client(url, token) as vtm:
        rid = resolve_run_id(vtm, run_id)
        r = _api(lambda: vtm.get_run(rid))
    table = Table(show_header=False, box=None)
    for key in (
        "id",
        "taskId",
        "status",
        "exitCode",
        "error",
        "mlflowRunId",
        "priority",
        "createdAt",
        "startedAt",
        "finishedAt",
        "lineCount",
        "protocolErrors",
        "gpus",
        "gpuHours",
        "energyWh",
        "cost",
    ):
        table.add_row(f"[bold]{key}[/]", "" if r.get(key) is None else str(r[key]))
    if r.get("queue"):
        q = r["queue"]
        table.add_row("[bold]queue[/]", f"#{q['position']}: {escape(q['reason'])}")
    table.add_row("[bold]command[/]", " ".join(r["command"]))
    table.add_row("[bold]fields[/]", ", ".join(f"{k}={v}" for k, v in r["fields"].items()))
    table.add_row("[bold]progress[/]", ", ".join(f"{k}={v}" for k, v in r["progress"].items()))
    console.print(table)
    if r["logs"]:
        console.rule("last lines")
        for line in r["logs"]:
            console.print(line, markup=False, highlight=False)


@app.command()
def logs(
    run_id: RunIdArg,
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until it ends.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Print a run's whole output; with --follow, until the run ends."""
    with client(url, token) as vtm:
        rid = resolve_run_id(vtm, run_id)
        offset = 0
        while True:
            page = _api(lambda at=offset: vtm.logs(rid, at))
            if page["text"]:
                console.file.write(page["text"])
                console.file.flush()
            offset = page["nextOffset"]
            if page["nextOffset"] < page["size"]:
                continue
            if not follow_ or page["complete"]:
                return
            time.sleep(0.2)  # poll interval of the follow mode, not synchronisation


@app.command()
def stop(
    run_id: RunIdArg,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Stop a run: SIGTERM, then SIGKILL after the grace period."""
    with client(url, token) as vtm:
        rid = resolve_run_id(vtm, run_id)
        r = _api(lambda: vtm.stop_run(rid))
    state = r["status"] if r["status"] in TERMINAL else "stopping"
    console.print(f"run {r['id']}: {state}")


@catalog_app.command("check")
def catalog_check(
    catalog: Annotated[
        Path, typer.Option(envvar="VTM_CATALOG", help="The catalog file to check.")
    ] = Path("training_catalog.yaml"),
) -> None:
    """Check the catalog: it loads, each trainer takes its flags, each pipeline can run.

    Loading checks every key of the tasks and the pipelines (file, line and key named). Each
    trainer is then run with --help: every flag the catalog passes it must be declared. And
    each pipeline step must be one VTM can run: a task step sets every required field, a
    publish step has a metric and a goal.
    """
    from vtm.catalog import check_catalog, load_catalog
    from vtm.catalog.pipeline_check import check_pipelines
    from vtm.errors import CatalogError

    try:
        loaded = load_catalog(catalog.resolve())
    except CatalogError as exc:
        # The error holds one problem a line, each "file:line: key: message".
        for line in str(exc).splitlines():
            err.print(f"[red]error:[/] {escape(line)}", soft_wrap=True)
        raise typer.Exit(1) from exc
    problems = check_catalog(loaded)
    for p in problems:
        err.print(f"[red]✗[/] {escape(p.task_id)}: {escape(p.message)}", soft_wrap=True)
    step_problems = check_pipelines(loaded)
    for sp in step_problems:
        where = f"{loaded.path}:{sp.line}" if sp.line else str(loaded.path)
        err.print(f"[red]✗[/] {escape(f'{where}: {sp.key}: {sp.message}')}", soft_wrap=True)
    if problems or step_problems:
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/] {len(loaded.catalog.tasks)} task(s) in {loaded.path} honour the contract"
    )
    pipelines = loaded.catalog.pipelines
    listed = ", ".join(
        f"{pid} ({len(p.steps)} step{'s' if len(p.steps) != 1 else ''})"
        for pid, p in pipelines.items()
    )
    console.print(
        f"[green]✓[/] {len(pipelines)} pipeline(s) can run" + (f": {listed}" if listed else ""),
        soft_wrap=True,
    )


@app.command()
def version() -> None:
    """Print VTM's version."""
    console.print(__version__)


def main(command: Callable[..., Any] | None = None) -> None:
    """``command``: the app as Click's command, built already (a spare `vtm exec`'s copy:
    building it costs ≈ 20 ms, which the spare pays once)."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if command is None:
        app()
    else:
        command(prog_name="vtm")
