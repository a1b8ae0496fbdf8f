"""The detached per-run supervisor: the server's API to it.

``program.py`` is the supervisor program itself; it imports none of this.
"""

from vtm.supervisor.control import (
    ExitRecord,
    PidRecord,
    SupervisorState,
    kill_orphans,
    probe,
    read_exit,
    read_pids,
    request_stop,
    spawn_supervisor,
)
from vtm.supervisor.rundir import LaunchSpec, RunDir
from vtm.supervisor.spare import PROGRAM_PATH, start_spare, stop_spare

__all__ = [
    "PROGRAM_PATH",
    "ExitRecord",
    "LaunchSpec",
    "PidRecord",
    "RunDir",
    "SupervisorState",
    "kill_orphans",
    "probe",
    "read_exit",
    "read_pids",
    "request_stop",
    "spawn_supervisor",
    "start_spare",
    "stop_spare",
]
