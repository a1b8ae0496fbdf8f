"""The repository on SQLite and PostgreSQL: what the run service relies on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from vtm.errors import Conflict, NotFound
from vtm.states import IllegalTransition, RunStatus
from vtm.store import (
    LaunchRecord,
    NewRun,
    OutputBatch,
    RunRepository,
    create_db_engine,
    experiment_of,
    migrate,
)
from vtm.store.db import HEAD_REVISION, MIGRATIONS, current_revision
from vtm.store.records import utcnow

# The store itself: the repository, its records and migrations.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def repo(database_url: str) -> Iterator[RunRepository]:
    engine = create_db_engine(database_url)
    migrate(engine)
    migrate(engine)  # every start migrates: a second time must be a no-op
    yield RunRepository(engine, tail_lines=3)
    engine.dispose()


def _new(repo: RunRepository, run_id: str = "20260101-000000-000001") -> str:
    repo.insert(
        NewRun(id=run_id, task_id="t", fields={"epochs": 2}, command=["py"], launch=LaunchRecord())
    )
    return run_id


def test_an_output_range_is_indexed_once(repo: RunRepository) -> None:
    run_id = _new(repo)
    batch = OutputBatch(
        expected_offset=0,
        consumed=100,
        lines=4,
        at_line_start=True,
        tail=["a", "b", "c", "d"],
        protocol_errors=1,
        progress=[{"epoch": 1, "total_epochs": 2, "loss": 0.5, "device": "cpu"}],
        meta=[{"mlflow_run_id": "m-1"}],
    )
    first = repo.apply_output(run_id, batch)
    assert first is not None
    assert repo.apply_output(run_id, batch) is None  # same range again: refused

    run = repo.get(run_id)
    assert (run.log_offset, run.line_count, run.protocol_errors) == (100, 4, 1)
    assert run.log_tail == ["b", "c", "d"]
    assert run.mlflow_run_id == "m-1"
    assert run.progress == {"epoch": 1, "total_epochs": 2, "loss": 0.5, "device": "cpu"}
    assert [(p.step, p.value) for p in repo.metrics(run_id)["loss"]] == [(1, 0.5)]
    assert set(repo.metrics(run_id)) == {"loss"}


def test_progress_merges_and_steps_without_epochs_count_up(repo: RunRepository) -> None:
    run_id = _new(repo)
    for offset, message in enumerate([{"loss": 3.0}, {"loss": 2.0, "acc": 0.5}, {"flag": True}]):
        batch = OutputBatch(offset, 1, 1, True, [], progress=[message])
        assert repo.apply_output(run_id, batch) is not None
    run = repo.get(run_id)
    assert run.progress == {"loss": 2.0, "acc": 0.5, "flag": True}
    assert [p.step for p in repo.metrics(run_id)["loss"]] == [1, 2]
    assert "flag" not in repo.metrics(run_id)


def test_transitions_follow_the_table(repo: RunRepository) -> None:
    run_id = _new(repo)
    with pytest.raises(IllegalTransition):
        repo.transition(run_id, RunStatus.COMPLETED)
    repo.transition(run_id, RunStatus.RUNNING)
    done = repo.transition(run_id, RunStatus.FAILED, exit_code=3, error="exited with code 3")
    assert (done.status, done.exit_code) == (RunStatus.FAILED, 3)
    with pytest.raises(IllegalTransition):
        repo.transition(run_id, RunStatus.RUNNING)
    with pytest.raises(NotFound):
        repo.get("20260101-000000-ffffff")
    assert issubclass(IllegalTransition, ValueError)
    assert Conflict.code == "conflict"


def test_pages_are_newest_first_with_a_cursor(repo: RunRepository) -> None:
    ids = [_new(repo, f"20260101-000000-{i:06d}") for i in range(7)]
    repo.transition(ids[2], RunStatus.RUNNING)
    page, cursor = repo.page(limit=3)
    assert [r.id for r in page] == ids[::-1][:3]
    page2, cursor2 = repo.page(limit=3, before_seq=cursor)
    page3, cursor3 = repo.page(limit=3, before_seq=cursor2)
    assert [r.id for r in page2 + page3] == ids[::-1][3:]
    assert cursor3 is None
    running, _ = repo.page(statuses=[RunStatus.RUNNING])
    assert [r.id for r in running] == [ids[2]]
    assert [r.id for r in repo.queued()] == [i for i in ids if i != ids[2]]
    assert repo.count(RunStatus.RUNNING) == 1


# -- the launch record ---------------------------------------------------------------------


def test_a_launch_record_is_stored_versioned_and_an_earlier_vtms_still_reads() -> None:
    record = LaunchRecord(
        cwd="/srv/catalog",
        env={"A": "1"},
        timeout_seconds=30.0,
        gpus=2,
        mlflow_experiment="digits",
    )
    stored = record.to_json()
    assert stored == {
        "version": 1,
        "cwd": "/srv/catalog",
        "inRunDir": False,
        "env": {"A": "1"},
        "timeoutSeconds": 30.0,
        "gpus": 2,
        "mlflowExperiment": "digits",
        "external": False,
        "executor": "local",
    }
    assert LaunchRecord.from_json(stored) == record
    # What VTM wrote before the record had a version: a run it launched, one `vtm exec` ran.
    legacy = {
        k: v for k, v in stored.items() if k not in ("version", "external", "inRunDir", "executor")
    }
    assert LaunchRecord.from_json(legacy) == record
    external = LaunchRecord.from_json({"external": True, "mlflowExperiment": "digits"})
    assert (external.external, external.mlflow_experiment, external.cwd) == (True, "digits", None)
    assert LaunchRecord.from_json({}) == LaunchRecord()
    on_ray = LaunchRecord.from_json({**stored, "executor": "ray"})
    assert on_ray.supervised_elsewhere and not record.supervised_elsewhere
    with pytest.raises(ValueError, match="executor"):
        LaunchRecord.from_json({**stored, "executor": "slurm"})
    with pytest.raises(ValueError, match="version 2"):
        LaunchRecord.from_json({**stored, "version": 2})
    with pytest.raises(ValueError, match="gpus"):
        LaunchRecord.from_json({**stored, "gpus": -1})


def test_a_runs_mlflow_experiment_is_the_recorded_one_else_its_tasks() -> None:
    def new(launch: LaunchRecord) -> NewRun:
        return NewRun(
            id="20260101-000000-000001", task_id="t", fields={}, command=[], launch=launch
        )

    assert experiment_of(new(LaunchRecord(mlflow_experiment="exp"))) == "exp"
    assert experiment_of(new(LaunchRecord())) == "t"


# -- a run's Airflow origin ----------------------------------------------------------------


def _airflow(try_number: int, task: str = "train", dag_run: str = "scheduled__1") -> Any:
    return {
        "dagId": "nightly",
        "runId": dag_run,
        "taskId": task,
        "tryNumber": try_number,
        "mapIndex": -1,
        "logicalDate": None,
    }


def _insert(repo: RunRepository, n: int, origin: dict[str, Any], task: str = "t") -> str:
    run_id = f"20260101-000000-{n:06x}"
    repo.insert(
        NewRun(
            id=run_id,
            task_id=task,
            fields={},
            command=["py"],
            launch=LaunchRecord(),
            origin=origin,
            status=RunStatus.RUNNING,
        )
    )
    return run_id


def test_on_a_busy_store_a_retry_and_a_dag_runs_are_still_found(repo: RunRepository) -> None:
    """More runs since the first try than the old scans read (200 of the task, 500 in all)."""
    prepare = _insert(repo, 1, {"kind": "airflow", "airflow": _airflow(1, task="prepare")})
    first = _insert(repo, 2, {"kind": "airflow", "airflow": _airflow(1)})
    for n in range(3, 603):
        other = {"kind": "airflow", "airflow": _airflow(1, dag_run=f"scheduled__{n}")}
        _insert(repo, n, other if n % 2 else {})
    mapped = {**_airflow(1, task="split"), "mapIndex": 3}
    split = _insert(repo, 700, {"kind": "exec", "host": "w1", "airflow": mapped})

    def previous(task: str, airflow: dict[str, Any]) -> str | None:
        run = repo.previous_try(task, airflow)
        return run.id if run is not None else None

    assert previous("t", _airflow(2)) == first
    assert previous("t", _airflow(1)) is None  # no earlier try
    assert previous("other-task", _airflow(2)) is None  # the VTM task must match too
    assert previous("t", _airflow(2, dag_run="scheduled__9")) == "20260101-000000-000009"
    assert previous("t", {**mapped, "tryNumber": 2}) == split
    assert previous("t", {**mapped, "tryNumber": 2, "mapIndex": 4}) is None

    second = _insert(repo, 701, {"kind": "airflow", "airflow": _airflow(2)})
    found = repo.airflow_runs("nightly", ["scheduled__1", "scheduled__5", "manual__none"])
    assert {key: run.id for key, run in found.items()} == {
        ("scheduled__1", "prepare"): prepare,
        ("scheduled__1", "train"): second,  # the latest try's run
        ("scheduled__1", "split"): split,
        ("scheduled__5", "train"): "20260101-000000-000005",
    }
    assert repo.airflow_runs("another-dag", ["scheduled__1"]) == {}
    assert repo.airflow_runs("nightly", []) == {}


# -- migrations ----------------------------------------------------------------------------

BEFORE_0004 = "0003_mlflow_settled"
JSON_COLUMNS = ("fields", "command", "launch", "progress", "meta", "log_tail", "gpus", "origin")


def _alembic(engine: sa.Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def _old_row(run_id: str, launch: dict[str, Any], origin: dict[str, Any]) -> dict[str, Any]:
    """A row as VTM wrote it at revision 0003."""
    now = utcnow()
    return {
        "id": run_id,
        "task_id": "t",
        "status": "completed",
        "fields": {"epochs": 1},
        "command": ["py", "train.py"],
        "launch": launch,
        "progress": {},
        "meta": {},
        "log_tail": [],
        "created_at": now,
        "finished_at": now,
        "updated_at": now,
        "log_offset": 0,
        "at_line_start": True,
        "line_count": 0,
        "progress_count": 0,
        "protocol_errors": 0,
        "stop_requested": False,
        "gpus": [],
        "origin": origin,
    }


def _airflow_columns(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, airflow_dag_id, airflow_dag_run_id, airflow_task_id, "
                "airflow_map_index, airflow_try_number FROM runs"
            )
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def test_migration_0004_indexes_the_airflow_origin_of_a_store_at_0003(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        migrate(engine, BEFORE_0004)
        served = {
            "cwd": "/srv/catalog",
            "env": {"A": "1"},
            "timeoutSeconds": 30,
            "gpus": 1,
            "mlflowExperiment": "digits",
        }
        no_experiment = {"cwd": "/srv", "env": {}, "timeoutSeconds": None, "gpus": 0}
        exec_launch = {"external": True, "mlflowExperiment": "digits"}
        no_map_index = {k: v for k, v in _airflow(1, task="prepare").items() if k != "mapIndex"}
        rows = {
            "person": _old_row("20260101-000000-000001", no_experiment, {}),
            "first": _old_row(
                "20260101-000000-000002", served, {"kind": "airflow", "airflow": _airflow(1)}
            ),
            "second": _old_row(
                "20260101-000000-000003",
                exec_launch,
                {
                    "kind": "exec",
                    "host": "w1",
                    "airflow": _airflow(2),
                    "previousTryRunId": "20260101-000000-000002",
                },
            ),
            "prepare": _old_row(
                "20260101-000000-000004", served, {"kind": "airflow", "airflow": no_map_index}
            ),
            "too-long": _old_row(
                "20260101-000000-000005",
                served,
                {"kind": "airflow", "airflow": {**_airflow(1), "dagId": "d" * 251}},
            ),
        }
        types = {c: sa.JSON() for c in JSON_COLUMNS}
        old_runs = sa.table("runs", *(sa.column(c, types.get(c)) for c in rows["person"]))
        with engine.begin() as connection:
            connection.execute(sa.insert(old_runs), list(rows.values()))

        migrate(engine)

        assert _airflow_columns(engine) == {
            rows["person"]["id"]: (None,) * 5,
            rows["first"]["id"]: ("nightly", "scheduled__1", "train", -1, 1),
            rows["second"]["id"]: ("nightly", "scheduled__1", "train", -1, 2),
            rows["prepare"]["id"]: ("nightly", "scheduled__1", "prepare", -1, 1),
            rows["too-long"]["id"]: (None,) * 5,  # shown as it is, linked to nothing
        }
        repo = RunRepository(engine)
        # The launch records written before they had a version read as typed records.
        first = repo.get(rows["first"]["id"])
        assert first.launch == LaunchRecord(
            cwd="/srv/catalog",
            env={"A": "1"},
            timeout_seconds=30.0,
            gpus=1,
            mlflow_experiment="digits",
        )
        second = repo.get(rows["second"]["id"])
        assert second.launch == LaunchRecord(external=True, mlflow_experiment="digits")
        assert second.origin == rows["second"]["origin"]  # the API's source is unchanged
        person = repo.get(rows["person"]["id"])
        assert (person.launch.cwd, experiment_of(person)) == ("/srv", "t")
        # The old rows are found by the indexed queries.
        assert repo.previous_try("t", _airflow(3)) == second
        found = repo.airflow_runs("nightly", ["scheduled__1"])
        assert {key: run.id for key, run in found.items()} == {
            ("scheduled__1", "train"): second.id,
            ("scheduled__1", "prepare"): rows["prepare"]["id"],
        }

        _alembic(engine, command.downgrade, BEFORE_0004)
        columns = {c["name"] for c in sa.inspect(engine).get_columns("runs")}
        assert not any(c.startswith("airflow_") for c in columns)
        migrate(engine)
        assert _airflow_columns(engine)[rows["second"]["id"]] == (
            "nightly",
            "scheduled__1",
            "train",
            -1,
            2,
        )
    finally:
        engine.dispose()


def test_a_store_at_the_newest_revision_starts_without_alembic(database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
    engine = create_db_engine(database_url)
    try:
        migrate(engine, BEFORE_0004)
        migrate(engine)  # not at head: Alembic upgrades
        with engine.connect() as connection:
            assert current_revision(connection) == HEAD_REVISION
    finally:
        engine.dispose()
    # A second start only reads the revision: Alembic is not even imported.
    probe = (
        "import sys; from vtm.store.db import create_db_engine, migrate; "
        f"migrate(create_db_engine({database_url!r})); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
