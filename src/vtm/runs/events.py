"""A fan-out of run events to Server-Sent Events subscribers.

Publishers are worker threads (the API's request threads, run monitors); subscribers are
asyncio tasks of the SSE endpoint. Events carry an id ``<boot>-<n>`` so a reconnecting client
(``Last-Event-ID``) is replayed what it missed, or told to resync when that is gone.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from vtm.store import RunData

# How a component tells of a change to a run (kind: run.created / run.updated / run.finished):
# the runtime serialises the record once and hands it to the bus.
Publisher = Callable[[str, RunData], None]


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    data: str  # JSON, serialised once by the publisher

    def encode(self) -> bytes:
        return f"id: {self.id}\nevent: {self.type}\ndata: {self.data}\n\n".encode()


RESYNC = "resync"


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.overflowed = False
        # Set when the server shuts down: the stream ends at once instead of holding the
        # shutdown up, and clients reconnect to the next server straight away.
        self.closed = asyncio.Event()

    def offer(self, event: Event) -> None:
        """Runs on the event loop. A subscriber too slow to keep up is told to resync."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    def __init__(self, *, history: int = 4096, queue_size: int = 10_000) -> None:
        self.boot = secrets.token_hex(4)
        self._counter = itertools.count(1)
        self._history: deque[Event] = deque(maxlen=history)
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue_size = queue_size

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, type_: str, data: str) -> Event:
        with self._lock:
            event = Event(f"{self.boot}-{next(self._counter)}", type_, data)
            self._history.append(event)
            # Scheduling under the lock keeps every subscriber's order equal to id order.
            if self._loop is not None and self._subscribers:
                for sub in tuple(self._subscribers):
                    self._loop.call_soon_threadsafe(sub.offer, event)
        return event

    def subscribe(
        self, last_event_id: str | None = None
    ) -> tuple[Subscription, list[Event] | None]:
        """A new subscription and the events it missed since ``last_event_id``.

        The list is None when they cannot be replayed (another boot, or too old): the client
        must refetch its state.
        """
        sub = Subscription(self, self._queue_size)
        with self._lock:
            self._subscribers.add(sub)
            if not last_event_id:
                return sub, []
            boot, _, n = last_event_id.rpartition("-")
            if boot != self.boot or not n.isdigit():
                return sub, None
            seen = int(n)
            missed = [e for e in self._history if int(e.id.rpartition("-")[2]) > seen]
            oldest = int(self._history[0].id.rpartition("-")[2]) if self._history else seen + 1
            if oldest > seen + 1:
                return sub, None
            return sub, missed

    def close_all(self) -> None:
        """End every open stream (server shutdown). Safe to call from a signal handler."""
        with self._lock:
            if self._loop is not None:
                for sub in self._subscribers:
                    self._loop.call_soon_threadsafe(sub.closed.set)

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)
