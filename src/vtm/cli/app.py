"""The `vtm` command line. Every command but `serve` and `catalog check` talks to a running
server over HTTP (VTM_URL, default http://127.0.0.1:8000)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from vtm import __version__
from vtm.cli.calls import api_call, fail
from vtm.cli.client import ApiError, Unreachable, VtmClient
from vtm.cli.exec_cmd import exec_command
from vtm.cli.follow import TERMINAL, exit_code_for, follow, metrics_text
from vtm.cli.publish import publish
from vtm.cli.report import report

app = typer.Typer(
    help="VTM: start, watch and stop training runs defined in training_catalog.yaml.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Work with the training catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.command("report")(report)
app.command("publish")(publish)
app.command("exec")(exec_command)

console = Console()
err = Console(stderr=True)

UrlOpt = Annotated[str, typer.Option("--url", envvar="VTM_URL", help="The VTM server.")]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", envvar="VTM_TOKEN", help="API token, if the server wants one."),
]
DEFAULT_URL = "http://127.0.0.1:8000"


def _client(url: str, token: str | None) -> VtmClient:
    return VtmClient(url, token)


_fail = fail


def _api(call: Any) -> Any:
    return api_call(call)


def parse_sets(values: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise _fail(f"--set wants key=value, got {item!r}", 2)
        fields[name.strip()] = value
    return fields


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
    """Run the VTM server (REST API, events, runs)."""
    from vtm.api.server import serve as serve_app
    from vtm.integrations.services import check_settings
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
        raise _fail(str(exc)) from exc
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
    set_: Annotated[
        list[str], typer.Option("--set", "-s", help="A field value, key=value; repeatable.")
    ] = [],  # noqa: B006
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Show progress until it ends.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Start a run of TASK. With --follow, exit with the run's outcome."""
    client = _client(url, token)
    record = _api(lambda: client.start(task, parse_sets(set_)))
    console.print(f"started run [bold]{record['id']}[/] ({record['status']})")
    if not follow_:
        return
    try:
        final = _api(lambda: follow(client, record["id"], console))
    except KeyboardInterrupt:
        err.print(f"stopped following; the run goes on. `vtm stop {record['id']}` stops it.")
        raise typer.Exit(130) from None
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
        console.print(f"  {run['error']}")
    metrics = metrics_text(run.get("progress") or {})
    if metrics:
        console.print(f"  {metrics}")


@app.command("runs")
def list_runs(
    status: Annotated[list[str], typer.Option("--status", help="Filter by status.")] = [],  # noqa: B006
    task: Annotated[str | None, typer.Option("--task", help="Filter by task id.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """List runs, newest first, with each task's primary metric."""
    client = _client(url, token)
    page = _api(lambda: client.runs(status=status, task_id=task, limit=limit))
    primary = _primary_metrics(client)
    table = Table(box=box.SIMPLE)
    table.add_column("id", no_wrap=True, min_width=22)  # people copy it: never cut it
    table.add_column("task", overflow="fold")
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("epoch", no_wrap=True)
    table.add_column("metric", overflow="fold")
    table.add_column("created", no_wrap=True, min_width=11)
    for r in page["runs"]:
        p = r.get("progress") or {}
        epoch = f"{p['epoch']}/{p.get('total_epochs', '?')}" if "epoch" in p else ""
        name = primary.get(r["taskId"])
        metric = f"{name}={p[name]:.4g}" if name and isinstance(p.get(name), int | float) else ""
        created = r["createdAt"][5:16].replace("T", " ")
        table.add_row(r["id"], r["taskId"], r["status"], epoch, metric, created)
    console.print(table)


def _primary_metrics(client: VtmClient) -> dict[str, str]:
    """Task id → its primary metric's name, from the server's catalog."""
    try:
        tasks = client.catalog()["tasks"]
    except (ApiError, Unreachable):
        return {}
    return {t["id"]: t["primaryMetric"]["name"] for t in tasks if t.get("primaryMetric")}


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Everything about one run."""
    r = _api(lambda: _client(url, token).run(run_id))
    table = Table(show_header=False, box=None)
    for key in (
        "id",
        "taskId",
        "status",
        "exitCode",
        "error",
        "mlflowRunId",
        "createdAt",
        "startedAt",
        "finishedAt",
        "lineCount",
        "protocolErrors",
    ):
        table.add_row(f"[bold]{key}[/]", "" if r.get(key) is None else str(r[key]))
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
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until it ends.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Print a run's whole output."""
    client = _client(url, token)
    offset = 0
    while True:
        page = _api(lambda at=offset: client.logs(run_id, at))
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
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Stop a run (SIGTERM to its processes, SIGKILL after the grace period)."""
    r = _api(lambda: _client(url, token).stop(run_id))
    state = r["status"] if r["status"] in TERMINAL else "stopping"
    console.print(f"run {r['id']}: {state}")


@catalog_app.command("check")
def catalog_check(
    catalog: Annotated[
        Path, typer.Option(envvar="VTM_CATALOG", help="The catalog file to check.")
    ] = Path("training_catalog.yaml"),
) -> None:
    """Load the catalog and run each trainer's --help: every flag must be declared."""
    from vtm.catalog import check_catalog, load_catalog
    from vtm.errors import CatalogError

    try:
        loaded = load_catalog(catalog.resolve())
    except CatalogError as exc:
        raise _fail(str(exc)) from exc
    problems = check_catalog(loaded)
    for p in problems:
        err.print(f"[red]✗[/] {p.task_id}: {p.message}")
    if problems:
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/] {len(loaded.catalog.tasks)} task(s) in {loaded.path} honour the contract"
    )


@app.command()
def version() -> None:
    """Print VTM's version."""
    console.print(__version__)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
