"""Index a run's output.log into the store: the one path by which output becomes a run's line
count, log tail, progress, metric points and meta.

Three callers, one behaviour: the server's RunMonitor (a run it supervises), the server's
external runs (output `vtm exec` sends, appended to the server's copy of output.log) and
`vtm exec` recording into a local store. Each read is applied in one transaction that is
conditional on the stored offset (``RunRepository.apply_output``), so however many indexers
look at one run, a range is indexed once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from vtm.protocol import parse_chunk
from vtm.runs.events import Publisher
from vtm.store import OutputBatch, RunData, RunRepository

READ_LIMIT = 4 << 20


class LogIndexer:
    def __init__(
        self,
        repo: RunRepository,
        run: RunData,
        path: Path,
        tail_lines: int,
        publish: Publisher | None = None,
    ) -> None:
        """``publish`` is told ``run.updated`` with the run after each applied read."""
        self.repo = repo
        self.run_id = run.id
        self.path = path
        self.tail_lines = tail_lines
        self._publish = publish
        self.offset = run.log_offset
        self._at_line_start = run.at_line_start
        self._file: BinaryIO | None = None
        self._stalled_size = -1
        self._bar: tuple[int, int] | None = None
        self.latest: RunData = run

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self) -> BinaryIO | None:
        if self._file is None:
            try:
                self._file = self.path.open("rb")
            except FileNotFoundError:
                return None
        return self._file

    def index(self, *, final: bool) -> bool:
        """Index what is new; True if more was there than one read takes.

        A chatty trainer is read once per call, not as fast as it prints: one batch (one
        transaction, one event) per call is what keeps the server cheap under 10^6 lines.
        ``final``: the run is over, so an unterminated last line counts as a line.
        """
        fh = self._open()
        if fh is None:
            return False
        size = os.fstat(fh.fileno()).st_size
        if size <= self.offset or (not final and size == self._stalled_size):
            return False
        fh.seek(self.offset)
        data = fh.read(READ_LIMIT)
        more_after = self.offset + len(data) < size
        chunk = parse_chunk(
            data,
            at_line_start=self._at_line_start,
            final=final and not more_after,
            tail_lines=self.tail_lines,
        )
        bar = chunk.bar if chunk.bar != self._bar else None
        if chunk.consumed == 0 and bar is None:
            self._stalled_size = size  # an unfinished line: wait for the file to grow
            return False
        batch = OutputBatch(
            expected_offset=self.offset,
            consumed=chunk.consumed,
            lines=chunk.lines,
            at_line_start=chunk.at_line_start,
            tail=chunk.tail,
            protocol_errors=chunk.malformed,
            progress=[m.data for m in chunk.messages if m.kind == "progress"],
            meta=[m.data for m in chunk.messages if m.kind == "meta"],
            bar=bar,
        )
        run = self.repo.apply_output(self.run_id, batch)
        if run is None:  # someone else indexed this range; take their offset
            run = self.repo.get(self.run_id)
        self.latest = run
        self.offset = run.log_offset
        self._at_line_start = run.at_line_start
        self._stalled_size = -1
        self._bar = chunk.bar or self._bar
        if self._publish is not None:
            self._publish("run.updated", run)
        return more_after

    def drain(self) -> None:
        """Index everything there is, the last line included: the run has ended."""
        while self.index(final=True):
            pass
