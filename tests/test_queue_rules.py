"""The queue's rules as a pure function: order, gang allocation, back-filling, the
reservation that keeps a big run from starving, GPUs used outside VTM, the words of each
reason and the start estimate against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vtm.runs.queue import Holding, QueueBoard, QueueInfo, QueueState, Waiting, plan_queue

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def at(seconds: float) -> float:
    """The timestamp ``seconds`` after NOW."""
    return (NOW + timedelta(seconds=seconds)).timestamp()


def waiting(name: str, seq: int, gpus: int = 1, priority: int = 0, waited: float = 0) -> Waiting:
    return Waiting(name, f"task-{name}", priority, seq, NOW - timedelta(seconds=waited), gpus)


def state(
    free: set[int], gpus: int = 2, outside: set[int] | None = None, **kw: float
) -> QueueState:
    return QueueState(
        gpus=list(range(gpus)),
        free=free,
        outside=outside or set(),
        max_running=int(kw.get("max_running", 8)),
        now=NOW,
        reserve_after=kw.get("reserve_after", 600),
    )


def held(name: str, gpus: list[int], started_ago: float, task: str = "") -> Holding:
    return Holding(name, task or f"task-{name}", gpus, NOW - timedelta(seconds=started_ago))


def test_priority_first_then_first_come_and_a_run_gets_all_its_gpus_or_none() -> None:
    plan = plan_queue(
        [waiting("a", 1), waiting("b", 2, priority=5), waiting("c", 3, gpus=2)],
        [],
        state({0, 1}),
        {},
    )
    assert plan.starts == [("b", [0]), ("a", [1])]
    assert plan.waiting["c"].position == 1
    assert plan.waiting["c"].reason == "needs 2 GPUs, 0 free"


def test_reasons_name_the_gpus_and_the_runs_ahead() -> None:
    plan = plan_queue(
        [waiting("a", 1, priority=1, gpus=2), waiting("b", 2, gpus=2), waiting("c", 3, gpus=2)],
        [held("x", [0], 10)],
        state({1}),
        {},
    )
    assert plan.starts == []
    assert [plan.waiting[r].position for r in "abc"] == [1, 2, 3]
    assert plan.waiting["b"].reason == "needs 2 GPUs, 1 free; behind 1 run of higher priority"
    assert plan.waiting["c"].reason == (
        "needs 2 GPUs, 1 free; behind 1 run of higher priority; behind 1 run queued earlier"
    )


def test_a_smaller_run_fills_in_until_the_big_one_has_waited_its_reservation() -> None:
    queue = [waiting("big", 1, gpus=2, waited=30), waiting("small", 2)]
    running = [held("x", [0], 10)]
    before = plan_queue(queue, running, state({1}, reserve_after=60), {})
    assert before.starts == [("small", [1])]
    after = plan_queue(queue, running, state({1}, reserve_after=20), {})
    assert after.starts == []
    assert after.waiting["small"].reason == (
        "needs 1 GPU, 0 free; GPUs kept for run big, waiting longest; behind 1 run queued earlier"
    )
    # What the big run does not need stays open to the others: a run without GPUs starts.
    cpu = plan_queue([*queue, waiting("cpu", 3, gpus=0)], running, state({1}, reserve_after=20), {})
    assert cpu.starts == [("cpu", [])]


def test_a_gpu_in_use_outside_vtm_is_not_handed_out() -> None:
    plan = plan_queue([waiting("a", 1)], [], state({0, 1}, outside={0, 1}), {})
    assert plan.starts == []
    assert plan.waiting["a"].reason == "needs 1 GPU, 0 free; GPU 0, 1 in use outside VTM"
    assert plan.waiting["a"].estimated_start_at is None  # nobody knows when they free up


def test_a_machine_without_gpus_queues_on_the_limit_alone() -> None:
    queue = [waiting("a", 1, gpus=0), waiting("b", 2, gpus=0)]
    plan = plan_queue(queue, [held("x", [], 30)], state(set(), gpus=0, max_running=1), {})
    assert plan.starts == []
    assert plan.waiting["b"].position == 2
    assert plan.waiting["b"].estimated_start_at is None  # x's task has no median
    timed = plan_queue(
        queue,
        [held("x", [], 30)],
        state(set(), gpus=0, max_running=1),
        {"task-x": 60, "task-a": 10},
    )
    assert timed.waiting["a"].estimated_start_at == at(30)
    assert timed.waiting["b"].estimated_start_at == at(40)


def test_the_limit_on_runs_at_once_holds_runs_without_gpus_too() -> None:
    plan = plan_queue(
        [waiting("cpu", 1, gpus=0)], [held("x", [], 5)], state(set(), max_running=1), {}
    )
    assert plan.waiting["cpu"].reason == (
        "1 runs going, the most at once (VTM_MAX_CONCURRENT_RUNS)"
    )


def test_the_estimate_replays_the_queue_against_the_medians() -> None:
    # GPU 0 held by x for 100 s of its task's 300 s median: free in 200 s. GPU 1 held by y,
    # 50 s into 120: free in 70 s. a (1 GPU) takes GPU 1 at +70 and holds it its median,
    # 60 s, to +130; b (2 GPUs) then needs GPU 0 (+200) and GPU 1 (+130): +200.
    medians = {"task-x": 300.0, "task-y": 120.0, "task-a": 60.0}
    plan = plan_queue(
        [waiting("a", 1), waiting("b", 2, gpus=2)],
        [held("x", [0], 100), held("y", [1], 50)],
        state(set()),
        medians,
    )
    assert plan.waiting["a"].estimated_start_at == at(70)
    assert plan.waiting["b"].estimated_start_at == at(200)
    # Without a's median, b's start cannot be known: it waits on a's end.
    unknown = plan_queue(
        [waiting("a", 1), waiting("b", 2, gpus=2)],
        [held("x", [0], 100), held("y", [1], 50)],
        state(set()),
        {"task-x": 300.0, "task-y": 120.0},
    )
    assert unknown.waiting["a"].estimated_start_at == at(70)
    assert unknown.waiting["b"].estimated_start_at is None


def test_an_overdue_run_is_expected_to_end_now() -> None:
    plan = plan_queue(
        [waiting("a", 1)], [held("x", [0], 500)], state(set(), gpus=1), {"task-x": 60}
    )
    assert plan.waiting["a"].estimated_start_at == at(0)


def test_the_board_pushes_news_not_the_clock() -> None:
    board = QueueBoard()
    first = QueueInfo(1, "needs 1 GPU, 0 free", at(0))
    assert board.replace({"a": first}) == {"a"}
    assert board.replace({"a": QueueInfo(1, first.reason, at(10))}) == set()
    assert board.replace({"a": QueueInfo(1, first.reason, at(40))}) == {"a"}
    assert board.replace({"a": QueueInfo(2, first.reason, at(0))}) == {"a"}
    assert board.replace({"a": QueueInfo(2, first.reason, None)}) == {"a"}
    assert board.get("a") == QueueInfo(2, first.reason, None)
    assert board.replace({}) == set()
    assert board.get("a") is None
