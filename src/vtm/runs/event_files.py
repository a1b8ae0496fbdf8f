"""Scalars from the TensorBoard event files a trainer writes, read as the files grow.

Trainers that log to TensorBoard (a ``SummaryWriter``, Lightning's TensorBoardLogger, the
Hugging Face Trainer's TensorBoard callback) need no change to show live metrics in VTM: the
run's monitor reads their event files under the run's work folder and its
``VTM_TENSORBOARD_DIR``, without TensorFlow, and keeps each scalar with the trainer's own
step as its x.

An event file is a sequence of TFRecords: an 8-byte little-endian length, a 4-byte CRC of
it, the ``Event`` protobuf, a 4-byte CRC of that. A record not yet wholly written is left
for the next read; offsets are kept per file in the store (``event_offsets``), so a server
restart reads on from where it was and no point is kept twice.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vtm.store import RunData, RunRepository, ScalarPoint

EVENT_FILE_MARK = "events.out.tfevents."
# Bytes of records taken from one file per read (about 8,000 scalars): a read is made once a
# second by the run's monitor, which must stay free to pass on a stop and notice the end even
# while a trainer logs scalars as fast as it can; the rest waits for the next read.
READ_LIMIT = 512 << 10
_HEADER = struct.Struct("<QI")
_SCALAR_DTYPES = {1: ("<f", 4), 2: ("<d", 8)}  # TensorProto's DT_FLOAT, DT_DOUBLE


def event_files(folders: list[Path]) -> Iterator[Path]:
    """Every event file below ``folders`` (links not followed: a trainer's folder may link
    to a dataset)."""
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                if EVENT_FILE_MARK in name:
                    yield Path(root, name)


def read_records(path: Path, offset: int, limit: int = READ_LIMIT) -> tuple[list[bytes], int]:
    """The whole records of ``path`` from ``offset`` (about ``limit`` bytes of them), and the
    offset after the last one."""
    records: list[bytes] = []
    with path.open("rb") as file:
        file.seek(offset)
        taken = 0
        while taken < limit:
            header = file.read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            (length, _) = _HEADER.unpack(header)
            body = file.read(length + 4)
            if len(body) < length + 4:
                break  # still being written
            records.append(body[:length])
            taken += _HEADER.size + length + 4
    return records, offset + taken


def _tensor_value(tensor: Any) -> float | None:
    if tensor.float_val:
        return float(tensor.float_val[0])
    if tensor.double_val:
        return float(tensor.double_val[0])
    kind = _SCALAR_DTYPES.get(tensor.dtype)
    if kind is not None and len(tensor.tensor_content) == kind[1]:
        return float(struct.unpack(kind[0], tensor.tensor_content)[0])
    return None


def scalars_of(record: bytes) -> list[ScalarPoint]:
    """The scalars of one ``Event``: ``simple_value`` (PyTorch, tensorboardX) or a scalar
    tensor of the scalars plugin (TensorFlow 2, Keras)."""
    from tensorboard.compat.proto.event_pb2 import Event  # the protobuf classes only

    try:
        event = Event.FromString(record)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError; a bad record is skipped
        return []
    if not event.HasField("summary"):
        return []
    found: list[ScalarPoint] = []
    for value in event.summary.value:
        if value.HasField("simple_value"):
            number: float | None = value.simple_value
        elif value.HasField("tensor") and value.metadata.plugin_data.plugin_name == "scalars":
            number = _tensor_value(value.tensor)
        else:
            continue
        if number is not None:
            found.append(ScalarPoint(value.tag, int(event.step), number))
    return found


class EventFileIndexer:
    """Reads one run's event files on and keeps their scalars (``RunRepository``)."""

    def __init__(self, repo: RunRepository, run: RunData, folders: list[Path]) -> None:
        self.repo = repo
        self.run_id = run.id
        self.folders = folders
        self.offsets: dict[str, int] = dict(run.event_offsets)

    def index(self) -> RunData | None:
        """Read what is new; the run as stored after, or None when there was nothing."""
        offsets = dict(self.offsets)
        scalars: list[ScalarPoint] = []
        for path in event_files(self.folders):
            key = str(path)
            try:
                size = path.stat().st_size
            except OSError:
                continue  # removed meanwhile
            start = offsets.get(key, 0)
            if size <= start:
                continue
            try:
                records, offsets[key] = read_records(path, start)
            except OSError:
                continue
            for record in records:
                scalars += scalars_of(record)
        if offsets == self.offsets:
            return None
        run = self.repo.apply_scalars(self.run_id, self.offsets, offsets, scalars)
        self.offsets = (
            offsets if run is not None else dict(self.repo.get(self.run_id).event_offsets)
        )
        return run
