"""The launcher of `make airflow` (providers/airflow/standalone/run.py) on a stand-in for
`airflow standalone` (no Airflow needed, a few seconds): a command whose process tree has the
shapes that standalone's has and worse. Stopping the launcher must end every process of it and
nothing else; `tests/test_airflow_stop.py` and the last test of `test_airflow_standalone.py` do
the same with the real `make airflow`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from support import TESTS, wait_for

LAUNCHER = TESTS.parent / "providers" / "airflow" / "standalone" / "run.py"

# The stand-in: a child that ignores SIGTERM and SIGINT (as LocalExecutor workers may), one
# with a grandchild that exits on SIGTERM, and a daemon (forked twice, in a session of its own,
# ignoring SIGTERM) whose parent has exited. It writes their PIDs, then waits or exits (argv[2]).
STAND_IN = """
import json, os, signal, subprocess, sys, time
out = sys.argv[1]
IGNORE = "import signal, time; " + "; ".join(
    f"signal.signal(signal.{s}, signal.SIG_IGN)" for s in ("SIGTERM", "SIGINT", "SIGHUP")
) + "; time.sleep(600)"
deaf = subprocess.Popen([sys.executable, "-c", IGNORE])
parent = subprocess.Popen([sys.executable, "-c",
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
    "'import time; time.sleep(600)']); time.sleep(600)"])
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-c", IGNORE])
    os.write(w, str(pid).encode())
    os._exit(0)
os.close(w)
daemon = int(os.read(r, 32))
os.wait()
def children_of(pid):
    found = []
    for c in os.listdir("/proc"):
        try:
            stat = open(f"/proc/{c}/stat").read() if c.isdigit() else ") ? 0"
            if stat.rsplit(")", 1)[1].split()[1] == str(pid):  # the parent's PID
                found.append(c)
        except OSError:
            pass
    return found
while not (grandchild := children_of(parent.pid)):
    time.sleep(0.05)
pids = {"command": os.getpid(), "deaf": deaf.pid, "parent": parent.pid,
        "grandchild": int(grandchild[0]), "daemon": daemon}
with open(out + ".tmp", "w") as f:
    json.dump(pids, f)
os.rename(out + ".tmp", out)
if sys.argv[2] == "wait":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # exits on SIGTERM, as standalone
    time.sleep(600)
elif sys.argv[2] == "kill-self":
    os.kill(os.getpid(), signal.SIGKILL)
sys.exit(int(sys.argv[2]))
"""


@dataclass
class Launched:
    proc: subprocess.Popen[bytes]
    processes: dict[str, psutil.Process]
    log: Path

    def alive(self) -> list[str]:
        return [name for name, p in self.processes.items() if _alive(p)]

    def wait(self, timeout: float = 30) -> tuple[int, float]:
        started = time.monotonic()
        code = self.proc.wait(timeout)
        return code, time.monotonic() - started

    def output(self) -> str:
        return self.log.read_text(errors="replace")


Launch = Callable[..., Launched]


def _alive(p: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    return False


def _gone(pid: int) -> bool:
    try:
        return not _alive(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    started: list[Launched] = []

    def run(grace: float, then: str = "wait") -> Launched:
        script = tmp_path / "stand_in.py"
        script.write_text(STAND_IN)
        out = tmp_path / f"pids-{len(started)}.json"
        log = tmp_path / f"launcher-{len(started)}.log"
        stand_in = [sys.executable, str(script), str(out), then]
        with open(log, "wb") as f:
            proc = subprocess.Popen(
                [sys.executable, str(LAUNCHER), "--grace", str(grace), "--", *stand_in],
                stdout=f,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, as make's is: Ctrl-C is killpg
            )
        launched = Launched(proc, {"launcher": psutil.Process(proc.pid)}, log)
        started.append(launched)
        if then == "wait":
            wait_for(out.exists, "the stand-in's processes", timeout=30)
            for name, pid in json.loads(out.read_text()).items():
                launched.processes[name] = psutil.Process(pid)
        return launched

    yield run
    for launched in started:  # whatever a failed test left
        for p in launched.processes.values():
            with contextlib.suppress(psutil.Error):
                p.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            launched.proc.wait(10)


def test_sigterm_ends_all_it_started_even_what_ignores_it_and_nothing_else(launch: Launch) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    # Carries the marker's name with another launcher's value: not ours either.
    other = dict(os.environ, VTM_AIRFLOW_LAUNCH="1-someone-else")
    lookalike = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=other)
    try:
        launched = launch(grace=1.5)
        # The daemon's parent exited: the launcher (a child subreaper) adopted it.
        assert launched.processes["daemon"].ppid() == launched.proc.pid
        os.kill(launched.proc.pid, signal.SIGTERM)
        code, seconds = launched.wait()
        assert code == 128 + signal.SIGTERM, launched.output()
        assert launched.alive() == [], launched.output()
        assert 1.5 <= seconds < 10, seconds  # the deaf ones needed the SIGKILL after the grace
        out = launched.output()
        assert "SIGTERM: stopping Airflow (grace 1.5 s)" in out
        assert "of them with SIGKILL" in out
        assert bystander.poll() is None and lookalike.poll() is None
    finally:
        for p in (bystander, lookalike):
            p.kill()
            p.wait()


def test_ctrl_c_to_the_group_stops_at_once_what_obeys_sigterm(launch: Launch) -> None:
    launched = launch(grace=30)
    deaf = launched.processes.pop("deaf")  # only the ones that exit on SIGTERM
    daemon = launched.processes.pop("daemon")
    deaf.kill()
    daemon.kill()
    wait_for(lambda: not _alive(deaf) and not _alive(daemon), "the deaf ones to die")
    os.killpg(launched.proc.pid, signal.SIGINT)  # as the terminal does on Ctrl-C
    code, seconds = launched.wait()
    assert code == 128 + signal.SIGINT, launched.output()
    assert launched.alive() == []
    assert seconds < 10, seconds  # no grace period waited out
    assert "SIGKILL" not in launched.output()


def test_a_second_signal_cuts_the_grace_short(launch: Launch) -> None:
    launched = launch(grace=120)
    os.kill(launched.proc.pid, signal.SIGTERM)
    time.sleep(1)
    assert launched.proc.poll() is None  # waiting for the deaf ones
    os.kill(launched.proc.pid, signal.SIGINT)
    code, seconds = launched.wait()
    assert code == 128 + signal.SIGTERM  # the first signal names the exit
    assert seconds < 10
    assert launched.alive() == []


@pytest.mark.parametrize(("then", "code"), [("3", 3), ("0", 0), ("kill-self", 128 + 9)])
def test_when_the_command_exits_its_leftovers_go_and_its_status_is_kept(
    launch: Launch, tmp_path: Path, then: str, code: int
) -> None:
    launched = launch(grace=1, then=then)
    assert launched.wait()[0] == code, launched.output()
    pids = json.loads((tmp_path / "pids-0.json").read_text())
    assert all(_gone(pid) for pid in pids.values()), pids
    assert "exited" in launched.output()


def test_a_command_that_cannot_start(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(LAUNCHER), str(tmp_path / "no-such-airflow"), "standalone"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 127
    assert "cannot run" in r.stderr
