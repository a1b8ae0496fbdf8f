"""A failed run says why: the exception its trainer died with, else the last line it printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import Server
from vtm.runs.failure import MAX_CAUSE_CHARS, TAIL_BYTES, cause_in_output, explain

OOM = "CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total capacity)"


def log_of(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "output.log"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_the_exception_of_a_traceback_is_the_cause(tmp_path: Path) -> None:
    log = log_of(
        tmp_path,
        "epoch 1\n"
        'VTM_PROGRESS::{"epoch": 1}\n'
        "Traceback (most recent call last):\n"
        '  File "train.py", line 9, in <module>\n'
        "    loss = model(x)\n"
        "           ^^^^^^^^\n"
        f"torch.OutOfMemoryError: {OOM}\n",
    )
    assert explain("exited with code 1", log) == (
        f"torch.OutOfMemoryError: {OOM} (exited with code 1)"
    )


def test_a_chained_exception_gives_the_last_one(tmp_path: Path) -> None:
    log = log_of(
        tmp_path,
        "Traceback (most recent call last):\n"
        '  File "a.py", line 1, in <module>\n'
        "KeyError: 'x'\n"
        "\n"
        "During handling of the above exception, another exception occurred:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "a.py", line 3, in <module>\n'
        "ValueError: no label 'x' in the data set\n"
        "shutting down the data loader workers\n",
    )
    assert cause_in_output(log) == "ValueError: no label 'x' in the data set"


def test_a_bare_exception_name_and_progress_bars_around_it(tmp_path: Path) -> None:
    log = log_of(
        tmp_path,
        "\x1b[32m 10%|#         | 1/10\x1b[0m\r 20%|##        | 2/10\r"
        "Traceback (most recent call last):\n"
        '  File "a.py", line 1, in <module>\n'
        "KeyboardInterrupt\n",
    )
    assert cause_in_output(log) == "KeyboardInterrupt"


def test_without_a_traceback_the_last_printed_line(tmp_path: Path) -> None:
    log = log_of(
        tmp_path,
        "loading data\n"
        "\x1b[31merror: /data/train.csv: no such file\x1b[0m\n"
        'VTM_PROGRESS::{"epoch": 0}\n'
        "\n",
    )
    assert cause_in_output(log) == "error: /data/train.csv: no such file"
    # A program that printed nothing leaves the supervisor's words alone.
    assert explain("exited with code 2", log_of(tmp_path, "")) == "exited with code 2"
    assert explain("exited with code 2", tmp_path / "missing.log") == "exited with code 2"


def test_only_the_end_of_a_huge_log_is_read_and_the_cause_is_bounded(tmp_path: Path) -> None:
    noise = b"x" * (TAIL_BYTES * 3) + b"\n"
    log = log_of(tmp_path, noise + b"Traceback (most recent call last):\nOSError: " + b"y" * 1000)
    cause = cause_in_output(log)
    assert cause is not None and cause.startswith("OSError: yyy")
    assert len(cause) == MAX_CAUSE_CHARS and cause.endswith("…")


@pytest.mark.parametrize(
    "reason",
    [
        "timed out after 30 s",
        "stopped by request",
        "the run's supervisor process died without recording the trainer's exit",
        None,
    ],
)
def test_what_vtm_itself_decided_is_kept(tmp_path: Path, reason: str | None) -> None:
    log = log_of(tmp_path, "Traceback (most recent call last):\nValueError: x\n")
    assert explain(reason, log) == reason


def test_a_failed_run_shows_its_cause_in_the_api_cli_and_report(server: Server) -> None:
    crashed = [server.start_run(epochs=1, crash="CUDA out of memory")["id"] for _ in range(2)]
    gave_up = server.start_run(epochs=1, exit_code=3)["id"]
    for run_id in [*crashed, gave_up]:
        assert server.wait_status(run_id)["status"] == "failed"

    oom = "RuntimeError: CUDA out of memory (exited with code 1)"
    assert [server.run(r)["error"] for r in crashed] == [oom, oom]
    assert server.run(gave_up)["error"] == "giving up with code 3 (exited with code 3)"

    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    shown = subprocess.run(
        [sys.executable, "-m", "vtm", "show", crashed[0]],
        env={**env, "VTM_URL": server.url, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert oom in shown.stdout

    report = server.client.get("/api/report", params={"since": "1d"}).json()
    (task,) = [t for t in report["tasks"] if t["taskId"] == "scripted"]
    reasons = {(r["kind"], r["reason"]): r["count"] for r in task["failureReasons"]}
    assert reasons == {
        ("exit_code", oom): 2,
        ("exit_code", "giving up with code 3 (exited with code 3)"): 1,
    }
