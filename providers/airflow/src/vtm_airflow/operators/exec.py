"""``VtmExecOperator``: a catalog task trained on the Airflow worker itself, through `vtm exec`.

A pipeline step with ``mode: exec`` becomes one, so the training runs where Airflow placed the
task: on a Celery worker of the step's ``queue`` (a GPU machine, say). The worker needs VTM
installed (the command: ``vtm_command``, else ``$VTM_EXEC_COMMAND``, else ``vtm`` on PATH) and
the catalog (``$VTM_CATALOG`` there, as `vtm exec` reads it). `vtm exec` records the run at the
VTM of the ``vtm`` connection, the URL and token in its environment (never on its command
line, which ``ps`` and Airflow's log show), with this try's Airflow context, from which VTM
links a retry's run to the previous try's, and the worker's host.

The trainer's output goes to the task's log line by line; the VTM run id is pushed (the return
value and XCom ``vtm_run_id``) as soon as `vtm exec` names it. A kill of the task (a timeout,
a person marking it failed) sends SIGTERM to `vtm exec`, which stops the trainer with the
supervisor's grace and records the run as stopped; a stop a person asks for in VTM reaches
`vtm exec` through its heartbeat and fails the task the same way.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from vtm_airflow.hooks.vtm import VtmHook

COMMAND_ENV = "VTM_EXEC_COMMAND"
# What the exec operator adds to Airflow's own context variables (AIRFLOW_CTX_*, which the
# task runner exports): `vtm exec` stores them with the run's Airflow origin.
QUEUE_ENV = "VTM_AIRFLOW_QUEUE"
HOSTNAME_ENV = "VTM_AIRFLOW_HOSTNAME"
# `vtm exec`'s note naming the run it recorded, on its stderr (its stdout is the trainer's).
RUN_NOTE = re.compile(r"^vtm exec: run (?P<run_id>[A-Za-z0-9_-]+) of ")
# After the trainer's end, how long the thread copying its output may take to drain the pipe.
DRAIN_SECONDS = 30.0
# After SIGTERM, how long `vtm exec` gets to stop its trainer (the supervisor's grace) and
# record the run as stopped, before its process group is killed.
STOP_SECONDS = 60.0


def _text(value: Any) -> str:
    """A field's value as `vtm exec --set` takes it (the catalog types it again)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class VtmExecOperator(BaseOperator):
    """Train catalog task ``vtm_task`` here, on the worker, with `vtm exec`; succeed only if
    its run completes (`vtm exec` exits 0)."""

    template_fields: Sequence[str] = ("vtm_task", "fields")
    template_fields_renderers: ClassVar[dict[str, str]] = {"fields": "json"}
    ui_color = "#e0e7ff"

    def __init__(
        self,
        *,
        vtm_task: str,
        fields: dict[str, Any] | None = None,
        vtm_conn_id: str = VtmHook.default_conn_name,
        vtm_command: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vtm_task = vtm_task
        self.fields = fields or {}
        self.vtm_conn_id = vtm_conn_id
        self.vtm_command = vtm_command
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        program = self.vtm_command or os.environ.get(COMMAND_ENV) or "vtm"
        argv = [*shlex.split(program), "exec", self.vtm_task]
        for name, value in self.fields.items():
            argv += ["--set", f"{name}={_text(value)}"]
        return argv

    def environment(self, context: Any) -> dict[str, str]:
        endpoint = VtmHook(self.vtm_conn_id).endpoint()
        env = {k: v for k, v in os.environ.items() if k not in ("VTM_TOKEN", "VTM_URL")}
        env["VTM_URL"] = endpoint.base_url
        if endpoint.token:
            env["VTM_TOKEN"] = endpoint.token
        env[QUEUE_ENV] = str(self.queue or "")
        env[HOSTNAME_ENV] = str(getattr(context["ti"], "hostname", None) or "")
        return env

    def execute(self, context: Any) -> str:
        argv = self.command()
        self.log.info("running %s", shlex.join(argv))
        self._proc = subprocess.Popen(
            argv,
            env=self.environment(context),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # on_kill signals `vtm exec`, not the task runner
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        output = threading.Thread(target=self._copy, args=(self._proc.stdout,), daemon=True)
        output.start()
        run_id: str | None = None
        for raw in self._proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.log.info("%s", line)
            if run_id is None and (found := RUN_NOTE.match(line)):
                run_id = found["run_id"]
                context["ti"].xcom_push(key="vtm_run_id", value=run_id)
        code = self._proc.wait()
        output.join(DRAIN_SECONDS)
        which = f"VTM run {run_id}" if run_id else "no VTM run recorded"
        if code != 0:
            raise AirflowException(f"vtm exec {self.vtm_task} exited with {code} ({which})")
        if run_id is None:
            raise AirflowException(f"vtm exec {self.vtm_task} did not name the run it recorded")
        return run_id

    def _copy(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self.log.info("%s", raw.decode("utf-8", errors="replace").rstrip("\n"))

    def on_kill(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        self.log.info("stopping vtm exec (pid %s)", proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.log.warning("vtm exec still running after %.0f s: killing it", STOP_SECONDS)
            os.killpg(proc.pid, signal.SIGKILL)
