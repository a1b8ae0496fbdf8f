"""`vtm exec TASK --set k=v`: run a catalog task here, in the foreground, and record it in VTM.

The entrypoint of an Airflow BashOperator or a Kubernetes pod: the fields are checked against
the local catalog before anything starts (exit 2 naming each bad field), the trainer runs
under VTM's supervisor, its output streams to stdout, SIGTERM/SIGINT stop it, and the exit code
is the run's (0 only when it completed). With VTM_URL the run is recorded on that server,
otherwise in the local store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vtm.cli.options import SetOpt, TokenOpt, parse_sets


def exec_command(
    task: Annotated[str, typer.Argument(help="Task id from the catalog.")],
    set_: SetOpt = [],  # noqa: B006
    catalog: Annotated[
        Path | None, typer.Option(envvar="VTM_CATALOG", help="The training catalog file.")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(envvar="VTM_HOME", help="Data home (run folders, store).")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", envvar="VTM_URL", help="Record the run on this VTM server (else locally)."
        ),
    ] = None,
    token: TokenOpt = None,
    server_wait: Annotated[
        float,
        typer.Option(
            "--server-wait",
            envvar="VTM_EXEC_SERVER_WAIT",
            min=0,
            help="Seconds to wait for a server that does not answer, before and after the run.",
        ),
    ] = 120.0,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id",
            help="The run's id, given by the VTM server that submitted this job (a Ray job: "
            "it then claims the run with VTM_RUN_TICKET); default: a new one.",
        ),
    ] = None,
) -> None:
    """Run TASK here, in the foreground, recorded in VTM.

    The trainer runs under VTM's supervisor, as the entrypoint of an Airflow BashOperator or a
    Kubernetes pod; `vtm exec` exits with the trainer's exit code.
    """
    from vtm.exec.run import exec_task  # here: heavier than any other command needs

    code = exec_task(task, parse_sets(set_), catalog, home, url, token, server_wait, run_id)
    raise typer.Exit(code)


def exec_spare_command(
    socket_path: Annotated[
        Path,
        typer.Option(
            "--socket",
            envvar="VTM_EXEC_SPARE",
            help="The Unix socket to wait on; `vtm exec` with VTM_EXEC_SPARE set to the same "
            "path hands its command over.",
        ),
    ],
) -> None:
    """Keep a warm `vtm exec` here, for quicker starts.

    For a Ray node or an Airflow worker; it runs until Ctrl-C. Each `vtm exec` started with
    VTM_EXEC_SPARE set to this socket is handed to a copy of this process, which has VTM
    imported already: its trainer starts a few hundred milliseconds sooner. Runs it started
    go on when it stops; after VTM is updated it refuses and exits (the callers then start
    cold), so restart it with VTM.
    """
    from vtm.exec.handover import note
    from vtm.exec.spare import Spare

    Spare(socket_path.absolute(), note).serve()
