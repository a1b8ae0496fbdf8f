"""`vtm queue`: the server's GPUs and its waiting runs, as the Live page shows them; with
RUN_ID and --priority, move a queued run first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vtm.cli.calls import api_call, client
from vtm.cli.options import DEFAULT_URL, TokenOpt, UrlOpt
from vtm.cli.runids import resolve_run_id

console = Console()
SOURCES = {"nvml": "found by NVML", "declared": "declared in VTM_GPUS"}


def queue(
    run_id: Annotated[
        str | None,
        typer.Argument(metavar="RUN_ID", help="A queued run to move (with --priority)."),
    ] = None,
    priority: Annotated[
        int | None, typer.Option("--priority", "-p", help="RUN_ID's new priority, higher first.")
    ] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Show the GPUs and the waiting runs, each with why it waits.

    Each waiting run shows its position, its priority, the reason it waits and when it will
    likely start. `vtm queue RUN_ID --priority N` moves a queued run first.
    """
    if (run_id is None) != (priority is None):
        console.print("[red]error:[/] give RUN_ID and --priority together, or neither")
        raise typer.Exit(2)
    with client(url, token) as vtm:
        if run_id is not None and priority is not None:
            rid = resolve_run_id(vtm, run_id)
            moved = api_call(lambda: vtm.set_priority(rid, priority))
            console.print(f"run {moved['id']}: priority {moved['priority']}")
        gpus = api_call(vtm.gpus)
        page = api_call(lambda: vtm.list_runs(status=["queued"], limit=500))
    console.print(gpu_table(gpus))
    console.print(queue_table(page["runs"], datetime.now(UTC)))


def gpu_table(listing: dict[str, Any]) -> Table | str:
    gpus = listing["gpus"]
    if not gpus:
        return "No GPUs to hand out (VTM_GPUS=none, or no GPU found by NVML)."
    table = Table(title=f"GPUs ({SOURCES.get(listing['source'], listing['source'])})")
    for header in ("GPU", "model", "memory", "busy", "held by"):
        table.add_column(header, overflow="fold")
    for gpu in gpus:
        memory = "—"
        if gpu["memoryTotal"] is not None and gpu["memoryUsed"] is not None:
            memory = f"{gpu['memoryUsed'] / 1024:.1f}/{gpu['memoryTotal'] / 1024:.0f} GiB"
        busy = "—" if gpu["utilization"] is None else f"{gpu['utilization']:.0f}%"
        holder = gpu["runId"] or ("in use outside VTM" if gpu["outsideUse"] else "free")
        table.add_row(str(gpu["index"]), escape(gpu["name"]), memory, busy, holder)
    return table


def queue_table(runs: list[dict[str, Any]], now: datetime) -> Table | str:
    waiting = sorted((r for r in runs if r.get("queue")), key=lambda r: r["queue"]["position"])
    if not waiting:
        return "No run is waiting."
    table = Table(title=f"Queue: {len(waiting)} waiting")
    for header in ("#", "run", "task", "prio", "waits because", "starts"):
        table.add_column(header, overflow="fold")
    for run in waiting:
        q = run["queue"]
        table.add_row(
            str(q["position"]),
            run["id"],
            escape(run["taskId"]),
            str(run["priority"]),
            escape(q["reason"]),
            starts(q["estimatedStartAt"], now),
        )
    return table


def starts(estimate: str | None, now: datetime) -> str:
    """'~14:05 (in 12 min)', 'now' when due, 'unknown' without an estimate."""
    if estimate is None:
        return "unknown"
    at = datetime.fromisoformat(estimate)
    minutes = round((at - now).total_seconds() / 60)
    if minutes <= 0:
        return "now"
    local = at.astimezone().strftime("%H:%M")
    return f"~{local} (in {minutes} min)" if minutes < 120 else f"~{local} (in {minutes // 60} h)"
