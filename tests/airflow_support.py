"""A real `airflow standalone` from `.venv-airflow`, for the tests that need Airflow itself.

It is started as a person starts it, with `make airflow` (so through the launcher,
providers/airflow/standalone/run.py), with a home of its own (SQLite, a copy of the database
the test kit migrated once for the session; LocalExecutor) and a free port on loopback given to
make: the DAGs folder of `make airflow` (one DAG per pipeline of the catalog named by
``VTM_CATALOG``) and a ``vtm_default`` connection to the VTM under test.
Standalone starts its scheduler, DAG processor, API server and triggerer, the scheduler its
LocalExecutor workers and they the task processes. It is stopped as a person stops it too:
SIGTERM to make, or SIGINT to make's process group (Ctrl-C); ``stop`` then reports every
process make started that is still alive, and kills it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml
from vtm_testkit import airflow_home
from vtm_testkit.airflow_api import AirflowApi
from vtm_testkit.processes import alive, kill_all, left_behind, session_of, title

from support import TESTS, Server, free_port

REPO = TESTS.parent
AIRFLOW_VENV = REPO / ".venv-airflow"
AIRFLOW_BIN = AIRFLOW_VENV / "bin"
# Stopping `make airflow`: the launcher's grace (AIRFLOW_STOP_GRACE, 10 s), its SIGKILLs and
# the reaping, on two busy cores.
STOP_BOUND = 30.0
# In the command lines of what `make airflow` starts (Airflow retitles most of its processes).
COMPONENTS = (
    "providers/airflow/standalone/run.py",
    "airflow standalone",
    "airflow scheduler",
    "airflow dag-processor",
    "airflow triggerer",
    "airflow api_server",
    "airflow worker -- LocalExecutor: <idle>",
)
# And what `make airflow CELERY=1` starts instead of standalone and its LocalExecutor workers.
CELERY_COMPONENTS = (
    "providers/airflow/standalone/run.py",
    "providers/airflow/standalone/celery.py",
    "airflow scheduler",
    "airflow dag-processor",
    "airflow triggerer",
    "airflow api_server",
    "airflow celery worker",
)
PIPELINE = "vtm-standalone"
FAILING = "vtm-standalone-fails"
GATED = "vtm-standalone-gated"
SCHEDULED = "vtm-standalone-nightly"


def write_catalog(folder: Path) -> Path:
    """The test catalog's tasks, with four pipelines: one whose ``train`` step fails its first
    try (a templated exit code) and passes its retry, one whose first step always fails, one
    that trains a model below its task's floor, so that its publish step is skipped, and a
    nightly one (cron, no catch-up) as the README's unpausing steps describe."""
    folder.mkdir(parents=True)
    for trainer in ("scripted.py", "tiny_model.py"):
        shutil.copy(TESTS / "trainers" / trainer, folder / trainer)
    document: dict[str, Any] = yaml.safe_load((TESTS / "trainers" / "catalog.yaml").read_text())
    document["tasks"] = {t: document["tasks"][t] for t in ("scripted", "tiny-model")}
    document["pipelines"] = {
        PIPELINE: {
            "description": "prepare, then a train step that passes on its second try",
            "steps": {
                "prepare": {"task": "scripted", "fields": {"epochs": 1, "text": "{{ ds }}"}},
                "train": {
                    "task": "scripted",
                    "fields": {"epochs": 2, "exit_code": "{{ 3 if ti.try_number == 1 else 0 }}"},
                    "dependsOn": ["prepare"],
                    "retries": 1,
                    "retryDelay": "1s",
                },
            },
        },
        FAILING: {
            "steps": {
                "broken": {"task": "scripted", "fields": {"exit_code": 4}},
                "after": {"task": "scripted", "dependsOn": ["broken"]},
            },
        },
        SCHEDULED: {
            "schedule": "0 2 * * *",
            "catchup": False,
            "steps": {"train": {"task": "scripted", "fields": {"epochs": 1}}},
        },
        GATED: {
            "description": "train a model that does not reach the floor: publish is skipped",
            "steps": {
                "train": {"task": "tiny-model", "fields": {"value": 0.041, "epochs": 1}},
                "publish": {
                    "publish": {"task": "tiny-model", "run": "train"},
                    "dependsOn": ["train"],
                },
            },
        },
    }
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def airflow_missing() -> str | None:
    """Why Airflow cannot run here, or None."""
    if not (AIRFLOW_BIN / "airflow").exists():
        return f"no Airflow in {AIRFLOW_VENV}: `make airflow-env` creates it"
    if shutil.which("make") is None:
        return "no `make` on PATH: the tests start Airflow with `make airflow`"
    return None


@dataclass
class Stopped:
    """What stopping `make airflow` found: make's exit status (``-N``: killed by signal N),
    how long make took to exit, the processes make had started (``pid: command line``, just
    before the signal) and those of them, or of standalone's session or marked as this start's,
    still alive after make exited."""

    returncode: int | None
    seconds: float
    before: dict[int, str] = field(default_factory=dict)
    left: dict[int, str] = field(default_factory=dict)


class AirflowStandalone(AirflowApi):
    """`make airflow` in a session of its own (make the group's leader, as a shell starts a
    job), on a home with the session's migrated database; ``api`` is an authenticated client
    of Airflow's REST API v2 once ``start()`` has returned."""

    def __init__(
        self,
        home: Path,
        catalog: Path,
        vtm_url: str,
        port: int | None = None,
        celery_queues: str | None = None,
        vtm_token: str | None = None,
    ):
        """``celery_queues``: `make airflow CELERY=1`, its worker taking these queues;
        ``vtm_token``: VTM's API token, for the ``vtm_default`` connection."""
        self.port = port or free_port()
        self.celery_queues = celery_queues
        self.vtm_token = vtm_token
        super().__init__(f"http://127.0.0.1:{self.port}", home)
        self.catalog = catalog
        self.vtm_url = vtm_url
        self.log_path = home.parent / f"airflow-standalone-{self.port}.log"
        self.make: subprocess.Popen[bytes] | None = None
        # In the environment of every process make starts, unless it retitles itself
        # (setproctitle overwrites /proc/PID/environ: the workers, the API server).
        self.marker = f"VTM_TEST_AIRFLOW_START={uuid.uuid4().hex}"
        self.stopped: Stopped | None = None
        self._before: dict[int, psutil.Process] = {}
        self._sessions: set[int] = set()

    def command(self) -> list[str]:
        """`make airflow` with this home, port, catalog and VTM. ``-o`` the environment's
        stamp: a test never reinstalls Airflow."""
        return [
            "make",
            "--no-print-directory",
            "-C",
            str(REPO),
            "-o",
            ".venv-airflow/.installed",
            "-o",
            ".venv/.installed",
            "airflow",
            f"AIRFLOW_HOME={self.home}",
            f"AIRFLOW_PORT={self.port}",
            f"AIRFLOW_CATALOG={self.catalog}",
            f"VTM_URL={self.vtm_url}",
            # Where `vtm exec` on the worker keeps its copy of a run's output.
            f"VTM_HOME={self.home.parent / 'worker-vtm-home'}",
            *(["CELERY=1", f"AIRFLOW_QUEUES={self.celery_queues}"] if self.celery_queues else []),
        ]

    def env(self) -> dict[str, str]:
        """The test's environment without VTM's, Airflow's, pytest's or an outer make's
        variables, with this start's marker."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("VTM_", "AIRFLOW", "PYTEST", "MAKE", "MFLAGS"))
        }
        name, value = self.marker.split("=", 1)
        env[name] = value
        # Celery's keys in Redis under a prefix of this start's alone: another Airflow on the
        # machine (a person's `make airflow CELERY=1`) never takes this one's tasks.
        env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX"] = f"vtm-test-{value}:"
        if self.vtm_token:
            env["VTM_TOKEN"] = self.vtm_token  # as a person exports it before `make airflow`
        return env

    def start(self, timeout: float = 240) -> AirflowStandalone:
        airflow_home.new_home(self.home, AIRFLOW_BIN / "airflow")
        with open(self.log_path, "ab") as log:
            self.make = subprocess.Popen(
                self.command(),
                env=self.env(),
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_up(self.make, self.log_path, timeout)
        return self

    def log(self, tail: int = 6000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-tail:]

    def processes(self) -> list[psutil.Process]:
        """What make has started and is alive now: the launcher and all below it (orphans
        stay below it: it is their subreaper)."""
        assert self.make is not None
        with contextlib.suppress(psutil.Error):
            return [p for p in psutil.Process(self.make.pid).children(recursive=True) if alive(p)]
        return []

    def stop(self, sig: signal.Signals = signal.SIGTERM, group: bool = False) -> Stopped:
        """Stop `make airflow` as a person does: ``sig`` to make (``kill``), or to its process
        group (``group``: Ctrl-C is SIGINT to the terminal's foreground group), and wait up to
        twice STOP_BOUND for make to exit. Then whatever is still alive of what make had
        started (listed just before the signal), of standalone's session (task processes have
        groups of their own) or carrying the marker is recorded in ``left`` and SIGKILLed, so
        that a failing test leaves nothing behind. Only the first call signals."""
        if self.stopped is not None:
            kill_all(self._left(self._before))
            return self.stopped
        self.api.close()
        if self.make is None:
            self.stopped = Stopped(None, 0.0)
            return self.stopped
        self._before = before = {p.pid: p for p in self.processes()}
        self._sessions = {self.make.pid} | {s for p in before.values() if (s := session_of(p))}
        titles = {pid: title(p) for pid, p in before.items()}
        started = time.monotonic()
        if self.make.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if group:
                    os.killpg(self.make.pid, sig)
                else:
                    self.make.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.make.wait(2 * STOP_BOUND)
        seconds = time.monotonic() - started
        left = self._left(before)
        self.stopped = Stopped(
            self.make.returncode,
            seconds,
            before=titles,
            left={p.pid: title(p) for p in left},
        )
        if self.make.poll() is None:
            self.make.kill()
            self.make.wait(10)
        kill_all(left)
        return self.stopped

    def _left(self, before: dict[int, psutil.Process]) -> list[psutil.Process]:
        """Alive: of ``before``, of the sessions seen then (a session's id is never reused
        while a process is in it), with this start's marker or naming its home."""
        found = {pid: p for pid, p in before.items() if alive(p)}
        found.update(left_behind(self._sessions, self.marker, f"AIRFLOW_HOME={self.home}"))
        return list(found.values())


def vtm_reading(airflow: AirflowStandalone, root: Path, port: int, **env: str) -> Server:
    """A started `vtm serve` on ``port`` (the one ``airflow``'s connection names), over
    ``airflow``'s catalog, that reads that Airflow for its Pipelines page as admin."""
    return Server(
        root / "vtm-home",
        f"sqlite:///{root / 'vtm.db'}",
        catalog=airflow.catalog,
        port=port,
        VTM_AIRFLOW_URL=airflow.url,
        VTM_AIRFLOW_USERNAME="admin",
        VTM_AIRFLOW_PASSWORD=airflow.password,
        **env,
    ).start()
