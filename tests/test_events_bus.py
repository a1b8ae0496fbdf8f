"""The event bus's replay rules, without a server."""

from __future__ import annotations

import asyncio

from vtm.runs.events import EventBus


def test_replay_after_a_known_id_and_resync_otherwise() -> None:
    bus = EventBus(history=3)
    events = [bus.publish("run.updated", f'{{"n": {i}}}') for i in range(5)]

    _, missed = bus.subscribe(events[2].id)
    assert missed == events[3:]
    _, too_old = bus.subscribe(events[0].id)
    assert too_old is None  # event 1 fell out of the history: refetch
    _, other_boot = bus.subscribe("cafe-1")
    assert other_boot is None
    _, fresh = bus.subscribe(None)
    assert fresh == []


def test_subscribers_receive_in_order_from_threads() -> None:
    async def scenario() -> list[str]:
        bus = EventBus()
        bus.bind(asyncio.get_running_loop())
        sub, _ = bus.subscribe()
        await asyncio.gather(
            *(asyncio.to_thread(bus.publish, "run.updated", str(i)) for i in range(50))
        )
        got = [(await sub.queue.get()).id for _ in range(50)]
        sub.close()
        return got

    ids = asyncio.run(scenario())
    numbers = [int(i.rpartition("-")[2]) for i in ids]
    assert numbers == sorted(numbers) == list(range(1, 51))


def test_a_slow_subscriber_is_told_to_resync() -> None:
    async def scenario() -> bool:
        bus = EventBus(queue_size=2)
        bus.bind(asyncio.get_running_loop())
        sub, _ = bus.subscribe()
        for i in range(5):
            bus.publish("run.updated", str(i))
        await asyncio.sleep(0)  # let the loop run the scheduled deliveries
        return sub.overflowed

    assert asyncio.run(scenario())
