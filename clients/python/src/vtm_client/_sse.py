"""Server-Sent Events: the lines of ``GET /api/events`` into events.

Only what VTM sends is needed (``id``, ``event``, ``data``, ``retry``, comments), but the
parsing follows the HTML standard's rules for those: a blank line ends an event, several
``data`` lines are joined with newlines, one space after the colon is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# The event the client itself yields while the stream is down (before it reconnects).
DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class SseEvent:
    """One event: ``type`` (``run.updated``, ``hello``, ``resync``…), its ``id`` if it has
    one, and its ``data`` (JSON for VTM's events)."""

    id: str | None
    type: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class SseParser:
    """Fed one line at a time (without its line ending); returns each event as it ends."""

    def __init__(self) -> None:
        self._id: str | None = None
        self._type = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        if line == "":
            event = SseEvent(self._id, self._type, "\n".join(self._data)) if self._data else None
            self._type, self._data = "message", []
            return event
        if line.startswith(":"):
            return None  # a comment: VTM's keep-alive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            self._id = value  # stays the last event id until another is given
        elif name == "event":
            self._type = value
        elif name == "data":
            self._data.append(value)
        return None
