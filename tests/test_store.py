"""The repository on SQLite and PostgreSQL: what the run service relies on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vtm.errors import Conflict, NotFound
from vtm.states import IllegalTransition, RunStatus
from vtm.store import NewRun, OutputBatch, RunRepository, create_db_engine, migrate


@pytest.fixture
def repo(database_url: str) -> Iterator[RunRepository]:
    engine = create_db_engine(database_url)
    migrate(engine)
    migrate(engine)  # every start migrates: a second time must be a no-op
    yield RunRepository(engine, tail_lines=3)
    engine.dispose()


def _new(repo: RunRepository, run_id: str = "20260101-000000-000001") -> str:
    repo.insert(NewRun(id=run_id, task_id="t", fields={"epochs": 2}, command=["py"], launch={}))
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
