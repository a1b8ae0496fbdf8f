"""The per-run supervisor with real processes: how each kind of run ends, and what it leaves."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proc_helpers.harness import TRAINER, Run, Runs, runs_fixture
from vtm.states import RunStatus
from vtm.supervisor import (
    LaunchSpec,
    RunDir,
    SupervisorState,
    probe,
    read_exit,
    read_pids,
    spare,
    spawn_supervisor,
    stop_spare,
)
from vtm.supervisor import program_watch as program


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[Runs]:
    yield from runs_fixture(tmp_path)


def lock_is_free(run_dir: RunDir) -> bool:
    with open(run_dir.supervisor_lock, "rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


def last_argument(run: Run) -> str:
    assert run.proc is not None and isinstance(run.proc.args, list)
    return str(run.proc.args[-1])


def test_the_supervisor_program_and_the_server_name_the_same_files() -> None:
    run_dir = RunDir(Path("/r"))
    assert [
        run_dir.spec_json.name,
        run_dir.supervisor_lock.name,
        run_dir.output_log.name,
        run_dir.pid_json.name,
        run_dir.exit_json.name,
        run_dir.supervisor_log.name,
    ] == [
        program.SPEC,
        program.LOCK,
        program.OUTPUT_LOG,
        program.PIDS,
        program.EXIT,
        program.SUPERVISOR_LOG,
    ]


def test_launch_spec_round_trips_and_names_what_is_wrong() -> None:
    spec = LaunchSpec("r1", ["python", "t.py"], "/w", {"A": "1"}, ["B"], 30.0, 2.5)
    assert LaunchSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["unsetEnv"] == ["B"]
    for bad, field in [
        ({"argv": []}, "argv"),
        ({"env": {"A": 1}}, "env"),
        ({"timeoutSeconds": "30"}, "timeoutSeconds"),
        ({"graceSeconds": None}, "graceSeconds"),
    ]:
        raw = json.loads(spec.to_json()) | bad
        with pytest.raises(ValueError, match=field):
            LaunchSpec.from_json(json.dumps(raw))


def test_a_completed_run(runs: Runs) -> None:
    run = runs.start("ok")
    record = run.wait_exit()
    assert (record.status, record.returncode, record.reason) == (RunStatus.COMPLETED, 0, None)
    assert run.proc is not None and run.proc.wait(timeout=10) == 0
    pids = read_pids(run.dir)
    assert pids is not None and pids.supervisor_pid == run.proc.pid
    assert pids.pgid == pids.trainer_pid != pids.supervisor_pid
    assert pids.started_at <= record.finished_at
    log = run.log()
    assert f"hello from the trainer, run {run.run_id}\n" in log
    assert "a line on stderr\n" in log
    assert probe(run.dir) is SupervisorState.EXITED
    assert lock_is_free(run.dir)
    assert run.dir.spec_json.stat().st_mode & 0o777 == 0o600
    assert "trainer started" in run.dir.supervisor_log.read_text()


def test_the_environment_is_inherited_less_unset_plus_spec(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VTM_TEST_INHERITED", "yes")
    monkeypatch.setenv("VTM_TEST_UNSET", "should not be seen")
    run = runs.make("env", "VTM_TEST_INHERITED,VTM_TEST_UNSET,VTM_TEST_EXTRA,PYTHONUNBUFFERED")
    run.spec.unset_env = ["VTM_TEST_UNSET"]
    run.proc = spawn_supervisor(run.dir, run.spec)
    assert run.wait_exit().status is RunStatus.COMPLETED
    assert run.log().splitlines() == [
        "VTM_TEST_INHERITED=yes",
        "VTM_TEST_UNSET=<unset>",
        "VTM_TEST_EXTRA=from-spec",
        "PYTHONUNBUFFERED=1",
    ]


def test_a_non_zero_exit_code_fails_the_run(runs: Runs) -> None:
    record = runs.start("exit", "3").wait_exit()
    assert (record.status, record.returncode, record.reason) == (
        RunStatus.FAILED,
        3,
        "exited with code 3",
    )


def test_a_trainer_killed_by_a_signal(runs: Runs) -> None:
    record = runs.start("suicide").wait_exit()
    assert (record.status, record.returncode) == (RunStatus.FAILED, -9)
    assert record.reason == "killed by signal SIGKILL"


def test_a_missing_interpreter_fails_with_the_os_error(runs: Runs) -> None:
    run = runs.make()
    run.spec.argv = ["/nonexistent/python3", "train.py"]
    run.proc = spawn_supervisor(run.dir, run.spec)
    record = run.wait_exit()
    assert (record.status, record.returncode) == (RunStatus.FAILED, None)
    assert record.reason is not None and "No such file or directory" in record.reason
    assert run.proc.wait(timeout=10) == 0
    assert read_pids(run.dir) is None
    assert probe(run.dir) is SupervisorState.EXITED and lock_is_free(run.dir)


def test_a_bad_spec_fails_the_run(runs: Runs) -> None:
    run = runs.make()
    run.dir.path.mkdir()
    run.dir.spec_json.write_text('{"argv": "not a list"}')
    run.proc = subprocess.Popen(spare.program_command(str(run.dir.path)))
    record = run.wait_exit()
    assert record.status is RunStatus.FAILED and "spec.json" in (record.reason or "")


def test_the_runner_timeout_fails_the_run(runs: Runs) -> None:
    record = runs.start("sleep", timeout=0.5).wait_exit()
    assert (record.status, record.returncode, record.reason) == (
        RunStatus.FAILED,
        -15,
        "timed out after 0.5 s",
    )


def test_every_line_reaches_the_log_exactly_once(runs: Runs) -> None:
    count = 100_000
    run = runs.start("lines", str(count))
    assert run.wait_exit(timeout=60).status is RunStatus.COMPLETED
    assert run.log().splitlines() == [f"line {n}" for n in range(count)]


def test_a_spare_supervisor_takes_the_next_run(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    stop_spare()
    first = runs.start("ok")
    assert last_argument(first) == str(first.dir.path)  # no spare yet: a cold start
    deadline = time.monotonic() + 30  # the next spare starts a moment after a run does
    while not spare.spare_ready():
        assert time.monotonic() < deadline, "no spare supervisor became ready"
        time.sleep(0.01)
    second = runs.start("ok")
    assert last_argument(second) == "--spare"
    monkeypatch.setenv("VTM_TEST_CHANGED", "1")  # a spare started before this is stale
    third = runs.start("env", "VTM_TEST_CHANGED")
    assert last_argument(third) == str(third.dir.path)
    for run in (first, second, third):
        assert run.wait_exit().status is RunStatus.COMPLETED
    assert third.log() == "VTM_TEST_CHANGED=1\n"
    assert "trainer started" in second.dir.supervisor_log.read_text()


def test_the_supervisor_program_imports_only_a_little_standard_library(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "spec.json").write_text(
        LaunchSpec("r", [sys.executable, str(TRAINER), "exit", "0"], str(tmp_path)).to_json()
    )
    program_path = spare.PROGRAM_PATH
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", str(program_path), str(run_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not modules & {"vtm", "re", "enum", "json", "subprocess", "typing", "threading"}
    assert read_exit(RunDir(run_dir)) is not None
    assert sorted(path.name for path in run_dir.iterdir()) == [
        "exit.json",
        "output.log",
        "pid.json",
        "spec.json",
        "supervisor.lock",
    ]


def test_a_second_supervisor_for_the_same_run_does_nothing(runs: Runs) -> None:
    run = runs.start("ok")
    record = run.wait_exit()
    again = subprocess.run(spare.program_command(str(run.dir.path)), timeout=30, check=False)
    assert again.returncode == 1
    assert read_exit(run.dir) == record
    assert run.log().count("hello from the trainer") == 1
