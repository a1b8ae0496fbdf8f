"""Airflow on the CeleryExecutor on one machine: what `make airflow CELERY=1` runs, under run.py
(which stops everything this starts).

``airflow standalone`` always runs its LocalExecutor, so this starts the same components
itself, after ``airflow db migrate``: the scheduler, the DAG processor, the API server and the
triggerer, and one Celery worker that takes the queues named in ``AIRFLOW_QUEUES``
(comma-separated, default ``default``). The broker and the result backend come from the
environment (``AIRFLOW__CELERY__BROKER_URL``, ``AIRFLOW__CELERY__RESULT_BACKEND``). Each line a
component prints is prefixed with its name, as standalone does. When one component exits,
this exits with its status and run.py stops the others.

On a real deployment the worker runs on another machine, started the same way:
``airflow celery worker --queues gpu-a100``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import IO

COMPONENTS = {
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "api-server": ["api-server"],
    "triggerer": ["triggerer"],
}


def say(name: str, line: str) -> None:
    print(f"{name:14} | {line}", flush=True)


def copy_lines(name: str, stream: IO[bytes]) -> None:
    for raw in stream:
        say(name, raw.decode("utf-8", errors="replace").rstrip())


def start(name: str, airflow: str, args: list[str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [airflow, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    threading.Thread(target=copy_lines, args=(name, proc.stdout), daemon=True).start()
    return proc


def main() -> int:
    airflow = sys.argv[1] if len(sys.argv) > 1 else "airflow"
    queues = os.environ.get("AIRFLOW_QUEUES") or "default"
    # The database first, and with it airflow.cfg (its generated secrets, which every
    # component must share) before anything else reads the configuration.
    migrated = subprocess.run([airflow, "db", "migrate"], stdin=subprocess.DEVNULL, check=False)
    if migrated.returncode != 0:
        say("celery", f"airflow db migrate failed ({migrated.returncode})")
        return migrated.returncode
    procs = {name: start(name, airflow, args) for name, args in COMPONENTS.items()}
    worker = ["celery", "worker", "--queues", queues]
    procs["celery-worker"] = start("celery-worker", airflow, worker)
    say("celery", f"started {', '.join(procs)}; the worker takes the queues {queues}")
    pid, status = os.wait()
    code = os.waitstatus_to_exitcode(status)
    name = next((n for n, p in procs.items() if p.pid == pid), str(pid))
    say("celery", f"{name} exited ({code}): stopping Airflow")
    return code if code > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
