"""What `vtm exec` does once its options are read: plan the run against the local catalog,
record it (``RemoteRecorder`` at VTM_URL, else ``LocalRecorder``), run it in the foreground,
report. Kept apart from the command so that other `vtm` commands do not import all this.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from vtm_client import ApiError, Unreachable

from vtm.catalog import load_catalog, plan_launch, resolve_fields
from vtm.errors import CatalogError, InvalidRequest, NotFound
from vtm.exec.foreground import Foreground, StopSignal
from vtm.exec.handover import note
from vtm.exec.recorder import Outcome, output_size
from vtm.exec.remote import RemoteRecorder
from vtm.runs.ids import is_run_id, new_run_id
from vtm.runs.launch import launch_record
from vtm.runs.origin import airflow_from_env
from vtm.settings import Settings
from vtm.states import RunStatus
from vtm.store import NewRun
from vtm.store.records import utcnow
from vtm.supervisor import RunDir

if TYPE_CHECKING:
    from vtm.exec.local import LocalRecorder

# A cluster run's one-time ticket, set in the job's environment by the server that submitted it.
TICKET_ENV = "VTM_RUN_TICKET"


def _usage(message: str) -> typer.Exit:
    note(f"error: {message}")
    return typer.Exit(2)


def exec_task(
    task: str,
    fields: dict[str, str],
    catalog: Path | None,
    home: Path | None,
    url: str | None,
    token: str | None,
    server_wait: float,
    run_id: str | None = None,
) -> int:
    """Run ``task`` and return the exit code; typer.Exit for what ends it before the start.
    ``run_id``: the id the server chose (a cluster run, claimed with VTM_RUN_TICKET)."""
    overrides: dict[str, Any] = {}
    if catalog is not None:
        overrides["catalog"] = catalog
    if home is not None:
        overrides["home"] = home
    settings = Settings(**overrides)
    ticket = os.environ.get(TICKET_ENV) or None
    if run_id is not None and not is_run_id(run_id):
        raise _usage(f"--run-id: not a run id: {run_id!r}")
    if ticket is not None and (run_id is None or not url):
        raise _usage(f"{TICKET_ENV} needs --run-id and a server (VTM_URL) to claim the run at")
    new = _plan(settings, task, fields, run_id)
    # With a server: this machine's copy of the output. Without: where a `vtm serve` on the
    # same store looks for it.
    run_dir = RunDir((settings.home / "exec" if url else settings.runs_dir) / new.id)
    stop = StopSignal()
    stop.install()  # before registering: a stop from now on must end the run as stopped
    recorder = _recorder(settings, url, token, server_wait, stop, ticket)
    runner = Foreground(settings, new, run_dir, recorder, stop, sys.stdout.buffer, note)
    try:
        _register(recorder, new)
        note(f"run {new.id} of {task} on {new.origin['host']}, recorded at {recorder.where}")
        outcome = runner.run_trainer()
        recorder.finish(outcome, output_size(run_dir.output_log))
    finally:
        recorder.close()
    _report(new.id, outcome)
    return outcome.exit_code


def _plan(settings: Settings, task: str, fields: dict[str, str], run_id: str | None) -> NewRun:
    """The run to start, checked against the local catalog: nothing has started yet."""
    try:
        loaded = load_catalog(settings.catalog)
        resolved = resolve_fields(loaded.catalog, task, fields)
        plan = plan_launch(loaded, task, resolved)
        airflow = airflow_from_env(os.environ)
    except InvalidRequest as exc:
        for error in exc.errors:
            note(f"error: {error.field}: {error.message}")
        raise typer.Exit(2) from None
    except (CatalogError, NotFound, ValueError) as exc:
        raise _usage(str(exc)) from None
    origin: dict[str, Any] = {"kind": "exec", "host": socket.gethostname()}
    if airflow is not None:
        origin["airflow"] = airflow
    now = utcnow()
    new = NewRun(
        id=run_id or new_run_id(now),
        task_id=task,
        fields=dict(resolved),
        command=list(plan.argv),
        launch=launch_record(plan),
        origin=origin,
        status=RunStatus.RUNNING,
        started_at=now,
        created_at=now,
    )
    return new


def _recorder(
    settings: Settings,
    url: str | None,
    token: str | None,
    wait: float,
    stop: StopSignal,
    ticket: str | None,
) -> LocalRecorder | RemoteRecorder:
    if url:
        return RemoteRecorder(
            url, token, wait, note, cancelled=lambda: stop.signum is not None, ticket=ticket
        )
    # The local store only here: a run reported to a server (a Ray job, an Airflow worker)
    # starts sooner without SQLAlchemy's imports.
    from sqlalchemy.exc import SQLAlchemyError

    from vtm.exec.local import LocalRecorder, store_name

    try:
        return LocalRecorder(settings)
    except SQLAlchemyError as exc:
        note(f"error: cannot open the store {store_name(settings)}: {exc}")
        raise typer.Exit(1) from None


def _register(recorder: LocalRecorder | RemoteRecorder, new: NewRun) -> None:
    """Record the run before it starts; a refusal or no answer starts nothing."""
    try:
        recorder.register(new)
    except ApiError as exc:
        for f in exc.fields:
            note(f"error: {f['field']}: {f['message']}")
        raise _usage(f"the VTM server refused the run: {exc.message}") from None
    except Unreachable as exc:
        note(f"error: {exc}; nothing was started")
        raise typer.Exit(1) from None


def _report(run_id: str, outcome: Outcome) -> None:
    line = f"run {run_id} {outcome.status.value}"
    if outcome.returncode is not None:
        line += f" (trainer exit code {outcome.returncode})"
    if outcome.reason:
        line += f": {outcome.reason}"
    note(line)
