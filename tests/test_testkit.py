"""The test kit itself (testkit/: vtm_testkit), on real processes, a real MLflow store and, when
.venv-airflow is there, a real `airflow db migrate`. The kit's server is what nearly every other
test here starts; what these tests add is its settings and its failing fast."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from vtm_testkit import airflow_home, chromium, mlflow_store, store_template
from vtm_testkit.processes import alive, kill_marked, processes_with_env
from vtm_testkit.server import ServerExited
from vtm_testkit.waiting import WaitTimeout, wait_for

from airflow_support import AIRFLOW_BIN
from support import TEST_CATALOG, Server, stop_leftovers
from vtm.integrations.mlflow import tracking_client
from vtm.settings import Settings
from vtm.store.db import HEAD_REVISION

SLEEPER = "import subprocess, sys, time\n" + (
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)"
)


def test_wait_for_returns_the_answer_or_fails_naming_what_and_the_last_answer() -> None:
    answers = iter([None, 0, "", "ready"])
    assert wait_for(lambda: next(answers), "an answer", timeout=5, every=0.001) == "ready"
    began = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"waiting for the moon \(last: \[\]\)"):
        wait_for(list, "the moon", timeout=0.2, every=0.05)
    assert 0.2 <= time.monotonic() - began < 5
    assert issubclass(WaitTimeout, AssertionError)  # pytest reports it as a failure


@pytest.fixture
def marked() -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A marker and the processes started with it (reaped at the end)."""
    token = uuid.uuid4().hex
    started: list[subprocess.Popen[bytes]] = []
    yield f"VTM_TESTKIT_MARK={token}", started
    kill_marked(f"VTM_TESTKIT_MARK={token}")
    for proc in started:
        proc.kill()
        proc.wait(10)


def test_marked_processes_are_found_exactly_and_killed_with_their_children(
    marked: tuple[str, list[subprocess.Popen[bytes]]],
) -> None:
    marker, started = marked
    name, token = marker.split("=", 1)
    sleeper = subprocess.Popen(
        [sys.executable, "-c", SLEEPER], env={**os.environ, name: token}
    )  # and its child
    started.append(sleeper)
    # A zombie with the marker (ended, not reaped) and a process whose entry only ends so.
    zombie = subprocess.Popen([sys.executable, "-c", "pass"], env={**os.environ, name: token})
    started.append(zombie)
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={**os.environ, f"OTHER_{name}": token},
    )
    started.append(other)
    wait_for(lambda: not alive(zombie.pid), "the zombie to have ended")

    def two() -> list[int] | None:
        found = processes_with_env(marker)
        return found if len(found) == 2 else None

    found = wait_for(two, "the sleeper and its child")
    assert sleeper.pid in found and zombie.pid not in found and other.pid not in found
    assert os.getpid() not in processes_with_env(f"PATH={os.environ['PATH']}")

    assert kill_marked(marker) == 2
    assert processes_with_env(marker) == []
    assert sleeper.wait(10) == -9
    assert alive(other.pid)


def test_chromium_is_launched_headless_with_nothing_fetched_behind_the_tests_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert chromium.ARGS[:3] == ("--headless", "--no-sandbox", "--disable-gpu")
    assert {"--disable-background-networking", "--disable-component-update"} <= set(chromium.ARGS)
    monkeypatch.setenv("VTM_E2E_CHROMIUM", str(tmp_path / "chrome"))
    assert chromium.binary() == str(tmp_path / "chrome")
    assert chromium.missing(chromium.binary()) == (
        f"no Chromium at {tmp_path / 'chrome'}: `make chromium` installs Debian's"
    )


def test_a_server_gets_its_home_settings_and_nothing_of_the_callers_vtm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VTM_TOKEN", "the-callers")
    monkeypatch.setenv("AIRFLOW_HOME", "/the/callers")
    server = Server(tmp_path / "home", "sqlite:///x.db", VTM_GPUS="0", VTM_TOKEN="mine")
    try:
        env = server.env
        assert env["VTM_HOME"] == str(tmp_path / "home")
        assert env["VTM_CATALOG"] == str(TEST_CATALOG)
        assert env["VTM_DATABASE_URL"] == "sqlite:///x.db"
        assert env["VTM_STOP_GRACE_SECONDS"] == "1"
        assert env["VTM_MAX_CONCURRENT_RUNS"] == "8"
        assert env["VTM_MLFLOW_STORE_AT_START"] == "false"
        assert (env["VTM_GPUS"], env["VTM_TOKEN"]) == ("0", "mine")  # given: over the settings
        assert "AIRFLOW_HOME" not in env
        assert server.command()[-2:] == ["--port", str(server.port)]
        assert server.log_path == tmp_path / "home" / f"server-{server.port}.log"
    finally:
        server.close()


def test_a_server_that_exits_fails_its_start_at_once_with_its_output(tmp_path: Path) -> None:
    server = Server(tmp_path / "home", args=("--no-such-option",))
    began = time.monotonic()
    try:
        with pytest.raises(ServerExited, match=r"(?s)vtm serve exited 2:.*no-such-option"):
            server.start()
    finally:
        server.close()
    assert time.monotonic() - began < 60
    assert not server.running


def test_a_forked_server_serves_as_its_own_command_and_reports_its_exit(tmp_path: Path) -> None:
    forked = Server(tmp_path / "forked")
    execd = Server(tmp_path / "execd")
    execd.forked = False
    assert forked.forked  # as the suite's servers are
    try:
        for server in (forked, execd):
            server.start()
            run = server.start_run(epochs=1)
            assert server.wait_status(run["id"])["status"] == "completed"
            # Its environment is the server's own: what it starts carries the home's marker.
            log = server.full_log(run["id"]).decode().splitlines()
            (env_line,) = [line for line in log if line.startswith("env::")]
            assert json.loads(env_line[len("env::") :])["VTM_HOME"] == str(server.home)
            server.stop()
        assert forked.proc is not None and execd.proc is not None
        assert forked.proc.returncode == execd.proc.returncode, forked.log()
    finally:
        forked.close()
        execd.close()


def test_a_fork_servers_servers_end_when_its_caller_goes(tmp_path: Path) -> None:
    caller = (
        "import sys; from pathlib import Path; from vtm_testkit.forkserver import ForkServer\n"
        "home = Path(sys.argv[1]); home.mkdir()\n"
        "proc = ForkServer(sys.executable).spawn('vtm', ['serve', '--port', '0'], "
        "{'VTM_HOME': str(home), 'VTM_GPUS': 'none'}, home, home / 'log')\n"
        "print(proc.pid, flush=True); sys.stdin.read()"
    )
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-c", caller, str(home)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    with proc.stdin, proc.stdout:
        pid = int(proc.stdout.readline())
        assert alive(pid)
        proc.kill()
        proc.wait(10)
    wait_for(lambda: not alive(pid), "the forked server to end with its caller", timeout=30)


def test_a_seeded_store_is_a_copy_of_one_at_the_newest_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'vtm.db'}"
    assert store_template.seed(url)
    assert not store_template.seed(url)  # a store that exists is left as it is
    with sqlite3.connect(tmp_path / "a" / "vtm.db") as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == HEAD_REVISION
    assert store_template.seed("sqlite:///b.db", cwd=tmp_path)  # relative: the server's folder
    assert (tmp_path / "b.db").exists()
    assert not store_template.seed("postgresql://u@h/db")
    assert not store_template.seed("sqlite:///:memory:")


def test_a_copied_mlflow_store_is_the_one_vtm_would_create_in_that_home(tmp_path: Path) -> None:
    stores = []
    for name in ("a", "b"):
        home = tmp_path / name
        home.mkdir()
        assert mlflow_store.copy_into(home) == home / "mlflow"
        settings = Settings(home=home, catalog=home / "training_catalog.yaml")
        (default,) = tracking_client(settings).search_experiments()
        assert default.name == "Default"
        assert default.artifact_location == (home / "mlflow" / "artifacts" / "0").as_uri()
        stores.append(home / "mlflow" / "mlflow.db")
    assert stores[0].read_bytes() != stores[1].read_bytes()  # copies, not links
    with pytest.raises(FileExistsError):
        mlflow_store.copy_into(tmp_path / "a")


@pytest.mark.skipif(not (AIRFLOW_BIN / "airflow").exists(), reason="no .venv-airflow")
@pytest.mark.airflow
def test_a_new_airflow_home_holds_a_migrated_database_and_nothing_else(tmp_path: Path) -> None:
    first = airflow_home.new_home(tmp_path / "one", AIRFLOW_BIN / "airflow")
    second = airflow_home.new_home(tmp_path / "two", AIRFLOW_BIN / "airflow")
    for home in (first, second):
        assert sorted(p.name for p in home.iterdir()) == ["airflow.db"]  # no airflow.cfg
        with sqlite3.connect(home / "airflow.db") as conn:
            (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            assert revision
            assert conn.execute("SELECT count(*) FROM slot_pool").fetchone() == (1,)
    with pytest.raises(FileExistsError):
        airflow_home.new_home(first, AIRFLOW_BIN / "airflow")

    env = airflow_home.environment(first, tmp_path / "dags", base={"AIRFLOW__X": "1", "A": "b"})
    assert env == {
        "A": "b",
        "AIRFLOW_HOME": str(first),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
    }


def test_a_run_left_on_a_shared_server_is_found_and_stopped(
    module_server: Server, tmp_path: Path
) -> None:
    """What the ``shared_server`` fixture does after each test that used it."""
    gates = tmp_path / "gates"
    gates.mkdir()
    done = module_server.start_run(epochs=1)
    module_server.wait_status(done["id"])
    left = module_server.start_run(epochs=2, gate_dir=str(gates), pause_at=1)
    module_server.wait_epoch(left["id"], 1)
    assert stop_leftovers(module_server) == [left["id"]]
    assert module_server.run(left["id"])["status"] == "stopped"
    assert stop_leftovers(module_server) == []
