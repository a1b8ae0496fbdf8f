"""The supervisor and the trainer's process tree: stops, kill -9, orphans, a dying server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proc_helpers.harness import Runs, alive, processes_of, runs_fixture, wait_for
from vtm.states import RunStatus
from vtm.supervisor import SupervisorState, kill_orphans, probe, read_pids, request_stop

GRACE = 0.5


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[Runs]:
    yield from runs_fixture(tmp_path)


def test_stop_kills_the_whole_tree_of_a_trainer_that_ignores_sigterm(runs: Runs) -> None:
    run = runs.start("stubborn", grace=GRACE)
    tree = run.pids(4)  # the trainer, its worker, an escapee in its own session, its child
    members = [pid for pids in tree.values() for pid in pids]
    assert sorted(tree) == ["child", "escapee", "stubborn"] and len(tree["child"]) == 2
    escapee = tree["escapee"][0]
    assert os.getsid(escapee) == escapee != os.getpgid(tree["stubborn"][0])
    started = time.monotonic()
    assert request_stop(run.dir)
    record = run.wait_exit()
    took = time.monotonic() - started
    # exit.json promises that nothing of the run is alive, zombies included: all are reaped.
    assert not [pid for pid in members if alive(pid)]
    assert processes_of(run.run_id) == []
    assert (record.status, record.returncode) == (RunStatus.STOPPED, -9)
    assert GRACE <= took < GRACE + 3.0, took
    assert not request_stop(run.dir)  # over: nothing is signalled twice


def test_a_trainer_that_honours_sigterm_stops_without_waiting_for_the_grace(
    runs: Runs,
) -> None:
    run = runs.start("sleep", grace=30.0)
    run.pids(1)
    started = time.monotonic()
    assert request_stop(run.dir)
    record = run.wait_exit()
    assert (record.status, record.returncode) == (RunStatus.STOPPED, -15)
    assert time.monotonic() - started < 10.0


def test_a_live_supervisor_keeps_its_processes_from_kill_orphans(runs: Runs) -> None:
    run = runs.start("family")
    tree = run.pids(2)
    assert probe(run.dir) is SupervisorState.ALIVE
    assert kill_orphans(run.dir, run.run_id) == 0
    assert all(alive(pid) for pids in tree.values() for pid in pids)


def test_the_trainer_holds_only_its_log_and_dev_null(runs: Runs) -> None:
    run = runs.start("family")
    trainer = run.pids(2)["family"][0]
    fds = {
        int(fd): os.readlink(f"/proc/{trainer}/fd/{fd}") for fd in os.listdir(f"/proc/{trainer}/fd")
    }
    assert fds[0] == os.devnull
    assert fds[1] == fds[2] == str(run.dir.output_log)
    assert str(run.dir.supervisor_lock) not in fds.values()  # else the lock would outlive us


def test_kill_9_of_the_supervisor_takes_the_trainer_and_leaves_orphans_to_clean_up(
    runs: Runs,
) -> None:
    run = runs.start("family")
    tree = run.pids(2)
    trainer, worker = tree["family"][0], tree["child"][0]
    os.kill(run.supervisor_pid(), signal.SIGKILL)
    assert run.proc is not None
    run.proc.wait(timeout=10)
    wait_for(lambda: not alive(trainer), "the trainer to die with its supervisor")
    assert probe(run.dir) is SupervisorState.LOST
    assert alive(worker)  # only the trainer had the parent-death signal
    assert (
        kill_orphans(
            run.dir,
            run.run_id,
        )
        == 1
    )
    wait_for(lambda: not alive(worker), "the orphaned worker to die")
    assert processes_of(run.run_id) == []
    assert kill_orphans(run.dir, "some-other-run") == 0


def test_kill_orphans_spares_processes_of_other_runs_in_the_recorded_group(
    runs: Runs,
) -> None:
    run = runs.start("family")
    tree = run.pids(2)
    trainer, worker = tree["family"][0], tree["child"][0]
    os.kill(run.supervisor_pid(), signal.SIGKILL)
    assert run.proc is not None
    run.proc.wait(timeout=10)
    # The trainer's parent-death signal takes it a moment after the supervisor's end.
    wait_for(lambda: not alive(trainer), "the trainer to die with its supervisor")
    wait_for(lambda: probe(run.dir) is SupervisorState.LOST, "the run to be lost")
    assert kill_orphans(run.dir, "not-" + run.run_id) == 0
    assert processes_of(run.run_id) == [worker]


SPAWNER = """
import os, sys, time
from pathlib import Path
from vtm.supervisor import LaunchSpec, RunDir, spawn_supervisor
spec = LaunchSpec.from_json(sys.argv[1])
proc = spawn_supervisor(RunDir(Path(sys.argv[2])), spec)
print(proc.pid, flush=True)
if sys.argv[3] == "exit":
    os._exit(0)
time.sleep(3600)
"""


@pytest.mark.parametrize("death", ["exit", "sigkill"])
def test_the_run_outlives_the_process_that_spawned_its_supervisor(
    runs: Runs, tmp_path: Path, death: str
) -> None:
    go = tmp_path / "go"
    run = runs.make("wait-file", str(go))
    command = [sys.executable, "-c", textwrap.dedent(SPAWNER), run.spec.to_json()]
    with subprocess.Popen(
        [*command, str(run.dir.path), death], stdout=subprocess.PIPE, start_new_session=True
    ) as spawner:
        try:
            assert spawner.stdout is not None
            supervisor = int(spawner.stdout.readline())
            wait_for(lambda: "WAITING" in run.log(), "the trainer to start")
            if death == "sigkill":
                spawner.kill()
            assert spawner.wait(timeout=10) in (0, -signal.SIGKILL)
        finally:
            spawner.kill()
    assert alive(supervisor) and probe(run.dir) is SupervisorState.ALIVE
    go.touch()
    record = run.wait_exit()
    assert (record.status, record.returncode) == (RunStatus.COMPLETED, 0)
    pids = read_pids(run.dir)
    assert pids is not None and pids.supervisor_pid == supervisor
    wait_for(lambda: not alive(supervisor), "the adopted supervisor to be reaped by init")
