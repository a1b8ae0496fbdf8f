"""The `vtm` command line against a real server, as a person would use it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support import TEST_CATALOG, Server
from vtm.cli.app import ORDER

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def server(shared_server: Server) -> Server:
    """The module's server: these tests start runs and read their own back."""
    return shared_server


def run_count(server: Server) -> int:
    return len(server.client.get("/api/runs", params={"limit": 200}).json()["runs"])


def cli_env(server: Server | None, columns: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    env["COLUMNS"] = str(columns)
    env["PYTHONUNBUFFERED"] = "1"
    if server is not None:
        env["VTM_URL"] = server.url
    return env


def vtm(
    server: Server | None, *args: str, timeout: float = 120, columns: int = 200
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtm", *args],
        env=cli_env(server, columns),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def started_id(stdout: str) -> str:
    return stdout.split("started run ")[1].split()[0]


def unique_prefix(run_id: str, others: list[str]) -> str:
    """The shortest start of ``run_id`` that no other id starts with."""
    for n in range(1, len(run_id)):
        if not any(o.startswith(run_id[:n]) for o in others):
            return run_id[:n]
    raise AssertionError(f"{run_id} is a prefix of another id")


def test_run_follow_shows_the_run_to_the_end(server: Server) -> None:
    result = vtm(server, "run", "scripted", "--set", "epochs=3", "--set", "meta_id=m-1", "--follow")
    assert result.returncode == 0, result.stderr
    assert "started run" in result.stdout
    assert "completed" in result.stdout
    assert "val_accuracy=1" in result.stdout
    run_id = started_id(result.stdout)
    assert server.run(run_id)["status"] == "completed"


def test_run_follow_at_80_columns_keeps_the_bar_status_and_epoch(server: Server) -> None:
    result = vtm(server, "run", "scripted", "-s", "epochs=3", "--follow", columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    # The live line's last frame: status, bar, epoch and (room permitting) the metrics.
    [frame] = [line for line in lines if "━" in line]
    assert frame.startswith("completed ")
    assert "epoch 3/3" in frame
    assert "val_accuracy=1" in frame


def test_run_follow_exit_code_mirrors_a_failed_run(server: Server) -> None:
    result = vtm(server, "run", "scripted", "-s", "epochs=1", "-s", "exit_code=7", "-f")
    assert result.returncode == 7
    assert "failed" in result.stdout


def test_run_with_bad_values_names_each_field(server: Server) -> None:
    before = run_count(server)
    result = vtm(server, "run", "scripted", "--set", "epochs=0", "--set", "nope=1")
    assert result.returncode == 2
    assert "epochs:" in result.stderr
    assert "nope:" in result.stderr
    assert run_count(server) == before  # nothing was started


def test_runs_show_logs_and_stop(server: Server, tmp_path: Path) -> None:
    done = server.start_run(epochs=2, lines=3)
    server.wait_status(done["id"])
    gates = tmp_path / "gates"
    gates.mkdir()
    waiting = server.start_run(epochs=2, gate_dir=str(gates), pause_at=1)
    server.wait_epoch(waiting["id"], 1)

    listing = vtm(server, "runs")
    assert listing.returncode == 0
    assert done["id"] in listing.stdout
    assert waiting["id"] in listing.stdout

    shown = vtm(server, "show", done["id"])
    assert shown.returncode == 0
    assert "completed" in shown.stdout
    assert "--epochs=2" in shown.stdout

    logs = vtm(server, "logs", done["id"])
    assert logs.returncode == 0
    assert logs.stdout == server.full_log(done["id"]).decode()

    stopped = vtm(server, "stop", waiting["id"])
    assert stopped.returncode == 0
    assert server.wait_status(waiting["id"])["status"] == "stopped"

    unknown = vtm(server, "show", "20200101-000000-000000")
    assert unknown.returncode == 2
    assert "unknown run" in unknown.stderr


def test_runs_at_80_columns_keep_each_run_on_one_line(server: Server, tmp_path: Path) -> None:
    done = server.start_run(task="needs-text", epochs=2, text="x")
    server.wait_status(done["id"])
    gates = tmp_path / "gates"
    gates.mkdir()
    waiting = server.start_run(epochs=2, gate_dir=str(gates), pause_at=1)
    server.wait_epoch(waiting["id"], 1)

    wide = vtm(server, "runs", columns=80)
    assert wide.returncode == 0, wide.stderr
    lines = wide.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    assert rows[done["id"]][1:5] == ["needs-text", "completed", "2/2", "val_accuracy=1"]
    assert rows[waiting["id"]][1:5] == ["scripted", "running", "1/2", "val_accuracy=0.5"]

    narrow = vtm(server, "runs", columns=44)
    lines = narrow.stdout.splitlines()
    assert all(len(line) <= 44 for line in lines), lines
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    # The id and the status stay whole; the rest gives way.
    assert rows[done["id"]][-1] == "completed"
    assert rows[waiting["id"]][-1] == "running"
    (gates / waiting["id"]).touch()
    server.wait_status(waiting["id"])


def test_a_start_of_a_run_id_names_the_run_in_every_command(
    fresh_server: Server, tmp_path: Path
) -> None:
    # Its own server: any other run could share the starts of these two runs' ids.
    server = fresh_server
    done = server.start_run(epochs=2, lr=0.5, text="hello")
    server.wait_status(done["id"])
    gates = tmp_path / "gates"
    gates.mkdir()
    waiting = server.start_run(epochs=2, gate_dir=str(gates), pause_at=1)
    server.wait_epoch(waiting["id"], 1)
    ids = [done["id"], waiting["id"]]
    short_done = unique_prefix(done["id"], [waiting["id"]])
    short_waiting = unique_prefix(waiting["id"], [done["id"]])

    shown = vtm(server, "show", short_done)
    assert shown.returncode == 0, shown.stderr
    assert done["id"] in shown.stdout and "--text=hello" in shown.stdout
    logs = vtm(server, "logs", short_done)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout == server.full_log(done["id"]).decode()

    stopped = vtm(server, "stop", short_waiting)
    assert stopped.returncode == 0, stopped.stderr
    assert server.wait_status(waiting["id"])["status"] == "stopped"

    rerun = vtm(server, "rerun", short_done, "--follow")
    assert rerun.returncode == 0, rerun.stderr
    again = server.run(started_id(rerun.stdout))
    assert again["id"] not in ids
    assert (again["fields"]["lr"], again["fields"]["text"]) == (0.5, "hello")

    # The longest start both ids share: at least the year.
    common = next(
        done["id"][:n]
        for n in range(len(done["id"]), 0, -1)
        if waiting["id"].startswith(done["id"][:n])
    )
    ambiguous = vtm(server, "show", common)
    assert ambiguous.returncode == 2
    assert "ambiguous" in ambiguous.stderr
    assert all(run_id in ambiguous.stderr for run_id in ids)

    for nothing in ("1999", "digits-cnn"):
        missing = vtm(server, "show", nothing)
        assert missing.returncode == 2
        assert f"no run has an id starting with {nothing!r}" in missing.stderr


def test_the_api_lists_runs_by_the_start_of_their_id(fresh_server: Server) -> None:
    server = fresh_server  # its own: any other run could share the ids' starts
    first = server.start_run(epochs=1)
    second = server.start_run(epochs=1)
    for run in (first, second):
        server.wait_status(run["id"])
    prefix = unique_prefix(first["id"], [second["id"]])
    page = server.client.get("/api/runs", params={"idPrefix": prefix}).json()
    assert [r["id"] for r in page["runs"]] == [first["id"]]
    both = server.client.get("/api/runs", params={"idPrefix": first["id"][:4]}).json()
    assert [r["id"] for r in both["runs"]] == [second["id"], first["id"]]
    # LIKE's wildcards are not run id characters: refused, never matched as patterns.
    for bad in ("2026%", "_", "ABC"):
        r = server.client.get("/api/runs", params={"idPrefix": bad})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["fields"][0]["field"] == "idPrefix"


def test_rerun_takes_the_old_fields_and_the_changes(server: Server) -> None:
    old = server.start_run(epochs=2, lr=0.5, text="hello", exit_code=7)
    server.wait_status(old["id"])
    before = run_count(server)

    again = vtm(server, "rerun", old["id"], "--set", "epochs=1", "-s", "text=bye", "-f")
    assert again.returncode == 7  # it fails like the old one: --follow mirrors the outcome
    assert f"from {old['id']} with epochs=1, text=bye" in again.stdout
    new = server.run(started_id(again.stdout))
    assert new["taskId"] == "scripted"
    assert {k: new["fields"][k] for k in ("epochs", "lr", "text", "exit_code")} == {
        "epochs": 1,
        "lr": 0.5,
        "text": "bye",
        "exit_code": 7,
    }
    assert "--lr=0.5" in new["command"] and "--epochs=1" in new["command"]

    refused = vtm(server, "rerun", old["id"], "--set", "epochs=0")
    assert refused.returncode == 2
    assert "epochs:" in refused.stderr
    assert run_count(server) == before + 1  # the first rerun only


def test_ctrl_c_while_following_stops_following_not_the_run(server: Server, tmp_path: Path) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    args = ["run", "scripted", "-s", "epochs=2", "-s", f"gate_dir={gates}", "-s", "pause_at=1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtm", *args, "--follow"],
        env=cli_env(server, 80),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        run_id = started_id(proc.stdout.readline())
        server.wait_epoch(run_id, 1)
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 75, errors
    assert proc.returncode != 130  # 130 says a person stopped the run; nobody did
    assert "stopped following; the run goes on" in errors
    assert server.run(run_id)["status"] == "running"
    (gates / run_id).touch()
    assert server.wait_status(run_id)["status"] == "completed"


def _command_rows(help_text: str) -> list[str]:
    panel = help_text.split("Commands")[1]
    return [line for line in panel.splitlines() if line.startswith("│")]


def test_help_lists_commands_in_order_each_in_one_sentence() -> None:
    for columns in (200, 80):
        result = vtm(None, "--help", columns=columns)
        assert result.returncode == 0, result.stderr
        rows = _command_rows(result.stdout)
        # One row per command: no help text runs onto a second line, even at 80 columns.
        assert [row.split()[1] for row in rows] == list(ORDER)
        for row in rows:
            assert re.search(r"\.\s*│$", row), row
    # The paragraphs after the first are reflowed, not broken where the docstring's lines end.
    run_help = vtm(None, "run", "--help").stdout
    assert "the trainer's exit code when it failed, 130 when a person stopped it" in run_help


def test_errors_name_the_option_to_change(server: Server) -> None:
    since = vtm(server, "report", "--since", "soon")
    assert since.returncode == 2
    assert "--since: 'soon' is not a duration such as '7d'" in since.stderr
    goal = vtm(server, "publish", "scripted", "--metric", "val_loss")
    assert goal.returncode == 2
    assert "--goal: is 'val_loss' better high or low? give --goal max|min" in goal.stderr


def test_logs_follow_prints_until_the_run_ends(server: Server) -> None:
    run = server.start_run(epochs=5, lines=100, sleep=0.05)
    result = vtm(server, "logs", run["id"], "-f")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "done"
    assert result.stdout == server.full_log(run["id"]).decode()


def test_no_server_is_a_clear_error() -> None:
    env_server = Server.__new__(Server)
    env_server.url = "http://127.0.0.1:9"  # discard port: nothing listens
    result = vtm(env_server, "runs")
    assert result.returncode == 1
    assert "no VTM server" in result.stderr


def test_catalog_check_passes_on_the_sample_catalog() -> None:
    result = vtm(None, "catalog", "check", "--catalog", str(EXAMPLES / "training_catalog.yaml"))
    assert result.returncode == 0, result.stderr
    assert "5 task(s)" in result.stdout and "honour the contract" in result.stdout
    assert (
        "3 pipeline(s) can run: digits-nightly (4 steps), digits-publish-nightly (1 step), "
        "quality-weekly (1 step)"
    ) in result.stdout


def test_catalog_check_names_undeclared_flags(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('--epochs')\np.parse_args()\n"
    )
    (tmp_path / "catalog.yaml").write_text(
        "version: 1\nbaseTaskTypes:\n  t:\n    fields:\n      epochs: {type: int, default: 1}\n"
        "tasks:\n  a:\n    baseTaskType: t\n    runner: {target: train.py}\n"
        "    extraFields:\n      momentum: {type: float, default: 0.9}\n"
    )
    result = vtm(None, "catalog", "check", "--catalog", str(tmp_path / "catalog.yaml"))
    assert result.returncode == 1
    assert "--momentum" in result.stderr
    assert "--epochs" not in result.stderr


def test_catalog_check_reports_an_invalid_catalog_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text(TEST_CATALOG.read_text().replace("epochs: {type: int", "epochs: {type: integer"))
    result = vtm(None, "catalog", "check", "--catalog", str(bad))
    assert result.returncode == 1
    assert f"{bad}:" in result.stderr
    assert "epochs" in result.stderr


PIPELINE_CATALOG = """\
version: 1
baseTaskTypes:
  cls:
    primaryMetric: {name: val_accuracy, goal: max}
    fields:
      epochs: {type: int, default: 1}
  prep:
    fields:
      snapshot: {type: string, required: true}
tasks:
  train:
    baseTaskType: cls
    runner: {target: train.py}
  prepare:
    baseTaskType: prep
    runner: {target: train.py}
pipelines:
  nightly:
    schedule: "0 2 * * *"
    steps:
      prepare: {task: prepare, fields: {snapshot: "{{ ds }}"}}
      train: {task: train, fields: {epochs: 2}, dependsOn: [prepare]}
      publish: {publish: {task: train, run: train}, dependsOn: [train]}
"""


def _pipeline_catalog(tmp_path: Path, text: str) -> Path:
    (tmp_path / "train.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('--epochs')\np.add_argument('--snapshot')\np.parse_args()\n"
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return path


def test_catalog_check_reports_the_pipelines_it_checked(tmp_path: Path) -> None:
    path = _pipeline_catalog(tmp_path, PIPELINE_CATALOG)
    result = vtm(None, "catalog", "check", "--catalog", str(path))
    assert result.returncode == 0, result.stderr
    assert "2 task(s)" in result.stdout
    assert "1 pipeline(s) can run: nightly (3 steps)" in result.stdout


def test_catalog_check_names_each_bad_pipeline_key_with_its_line(tmp_path: Path) -> None:
    text = PIPELINE_CATALOG.replace(
        "{epochs: 2}, dependsOn: [prepare]", "{epochs: two}, dependsOn: [prep]"
    )
    text = text.replace("{task: train, run: train}", "{task: trian, run: train}")
    path = _pipeline_catalog(tmp_path, text)
    result = vtm(None, "catalog", "check", "--catalog", str(path), columns=80)
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    # One whole line per problem, however narrow the terminal.
    assert f"error: {path}:22: pipelines.nightly.steps.train.fields.epochs: " in errors[0]
    assert any(
        line.startswith(f"error: {path}:22: pipelines.nightly.steps.train.dependsOn.0: ")
        and "unknown step 'prep'" in line
        for line in errors
    ), errors
    assert any(
        line.startswith(f"error: {path}:23: pipelines.nightly.steps.publish.publish.task: ")
        and "unknown task 'trian'" in line
        for line in errors
    ), errors


def test_catalog_check_names_pipeline_steps_that_could_never_run(tmp_path: Path) -> None:
    text = PIPELINE_CATALOG.replace(
        '{task: prepare, fields: {snapshot: "{{ ds }}"}}', "{task: prepare}"
    ).replace("{task: train, run: train}", "{task: train, run: train, metric: val_loss}")
    path = _pipeline_catalog(tmp_path, text)
    result = vtm(None, "catalog", "check", "--catalog", str(path))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert (
        f"✗ {path}:21: pipelines.nightly.steps.prepare.task: task 'prepare' requires field "
        "'snapshot' and the step does not set it"
    ) in result.stderr, errors
    assert (
        f"✗ {path}:23: pipelines.nightly.steps.publish.publish: 'val_loss' is not task "
        "'train''s primary metric, so its goal is unknown"
    ) in result.stderr, errors


def test_errors_print_brackets_as_written(tmp_path: Path) -> None:
    # Rich would take "[red]" for a style and print nothing of it.
    text = PIPELINE_CATALOG.replace(
        "runner: {target: train.py}\n  prepare:",
        "runner: {target: train.py, env: {'[red]': x}}\n  prepare:",
    )
    path = _pipeline_catalog(tmp_path, text)
    result = vtm(None, "catalog", "check", "--catalog", str(path))
    assert result.returncode == 1
    assert "'[red]' is not an environment variable name" in result.stderr
