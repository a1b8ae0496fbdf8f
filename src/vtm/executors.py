"""Where a run's trainer runs: the names a catalog task and a start request choose from.

``local``: under a supervisor on the VTM server's machine. ``ray``: as a job on the Ray cluster
at VTM_RAY_ADDRESS, where `vtm exec` supervises it and reports back (docs/scaling.md).
"""

from __future__ import annotations

from typing import Literal, get_args

Executor = Literal["local", "ray"]
EXECUTORS: tuple[Executor, ...] = get_args(Executor)
