"""`vtm run --follow`: a live progress bar with the metrics until the run ends."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from vtm.cli.client import VtmClient

TERMINAL = ("completed", "failed", "stopped")
# What `vtm run --follow` exits with when the run did not complete and gave no code.
EXIT_FAILED = 1
EXIT_STOPPED = 130


def exit_code_for(run: dict[str, Any]) -> int:
    """The CLI's exit code mirrors the run: 0 completed, the trainer's code when it failed
    with one (1 otherwise), 130 when a person stopped it."""
    status = run["status"]
    if status == "completed":
        return 0
    if status == "stopped":
        return EXIT_STOPPED
    code = run.get("exitCode")
    return code if isinstance(code, int) and 0 < code < 256 else EXIT_FAILED


def metrics_text(progress: dict[str, Any]) -> str:
    parts = []
    for key, value in progress.items():
        if key in ("epoch", "total_epochs"):
            continue
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, int | str) and not isinstance(value, bool):
            parts.append(f"{key}={value}")
    return " ".join(parts)


class Follower:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.fields[run_id]}[/] {task.fields[status]}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[metrics]}"),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def show(self, run: dict[str, Any]) -> None:
        progress = run.get("progress") or {}
        total = progress.get("total_epochs")
        done = progress.get("epoch")
        fields = {
            "run_id": run["id"],
            "status": run["status"],
            "metrics": metrics_text(progress),
            "count": f"epoch {done}/{total}" if total is not None else "",
        }
        total_f = float(total) if isinstance(total, int | float) and total > 0 else None
        done_n = int(done) if isinstance(done, int | float) else 0
        if self._task is None:
            self._task = self.progress.add_task("run", total=total_f, completed=done_n, **fields)
        else:
            self.progress.update(self._task, total=total_f, completed=done_n, **fields)


def follow(client: VtmClient, run_id: str, console: Console) -> dict[str, Any]:
    """Show the run live until it ends; returns its final record."""
    follower = Follower(console)
    with follower.progress:
        run = client.run(run_id)
        follower.show(run)
        if run["status"] in TERMINAL:
            return run
        for event in client.events(run_id=run_id):
            if event.type in ("run.updated", "run.finished", "run.created"):
                run = event.json()
            elif event.type in ("resync", "hello"):
                run = client.run(run_id)  # we may have missed events: take the current state
            elif event.type == "disconnected":
                follower.progress.update(
                    follower._task or TaskID(0), status="[yellow]reconnecting…[/]"
                )
                continue
            else:
                continue
            follower.show(run)
            if run["status"] in TERMINAL:
                break
    return run
