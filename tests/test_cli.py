"""The `vtm` command line against a real server, as a person would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import TEST_CATALOG, Server

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def vtm(
    server: Server | None, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTM_")}
    env["COLUMNS"] = "200"
    if server is not None:
        env["VTM_URL"] = server.url
    return subprocess.run(
        [sys.executable, "-m", "vtm", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_run_follow_shows_the_run_to_the_end(server: Server) -> None:
    result = vtm(server, "run", "scripted", "--set", "epochs=3", "--set", "meta_id=m-1", "--follow")
    assert result.returncode == 0, result.stderr
    assert "started run" in result.stdout
    assert "completed" in result.stdout
    assert "val_accuracy=1" in result.stdout
    run_id = result.stdout.split("started run ")[1].split()[0]
    assert server.run(run_id)["status"] == "completed"


def test_run_follow_exit_code_mirrors_a_failed_run(server: Server) -> None:
    result = vtm(server, "run", "scripted", "-s", "epochs=1", "-s", "exit_code=7", "-f")
    assert result.returncode == 7
    assert "failed" in result.stdout


def test_run_with_bad_values_names_each_field(server: Server) -> None:
    result = vtm(server, "run", "scripted", "--set", "epochs=0", "--set", "nope=1")
    assert result.returncode == 2
    assert "epochs:" in result.stderr
    assert "nope:" in result.stderr
    assert server.client.get("/api/runs").json()["runs"] == []


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
    assert "honour the contract" in result.stdout


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
