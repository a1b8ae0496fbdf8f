"""TensorBoard event files read as they grow: whole records only, PyTorch's and TensorFlow's
scalar forms, and the reader's offsets kept with the points."""

from __future__ import annotations

import struct
import time
from pathlib import Path

from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from vtm.runs.event_files import EventFileIndexer, event_files, read_records, scalars_of
from vtm.store import NewRun, RunRepository, ScalarPoint, create_db_engine, migrate
from vtm.store.launch import LaunchRecord
from vtm.store.records import utcnow


def scalar_event(tag: str, step: int, value: float) -> event_pb2.Event:
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    return event_pb2.Event(wall_time=time.time(), step=step, summary=summary)


def write(folder: Path, *events: event_pb2.Event) -> Path:
    writer = EventFileWriter(str(folder))
    for event in events:
        writer.add_event(event)
    writer.close()
    (path,) = event_files([folder])
    return path


def test_simple_values_and_scalar_tensors_are_read_the_rest_skipped(tmp_path: Path) -> None:
    # TensorFlow 2 / Keras write a scalar as a tensor of the scalars plugin.
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    tensor = tensor_pb2.TensorProto(dtype=1, tensor_content=struct.pack("<f", 0.75))
    tf2 = event_pb2.Event(
        step=3,
        summary=summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="acc", tensor=tensor, metadata=metadata)]
        ),
    )
    text = event_pb2.Event(
        step=4,
        summary=summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="note", tensor=tensor_pb2.TensorProto(dtype=7))]
        ),
    )
    path = write(tmp_path, scalar_event("loss", 1, 0.5), tf2, text)
    records, end = read_records(path, 0)
    assert end == path.stat().st_size
    found = [s for r in records for s in scalars_of(r)]
    assert found == [ScalarPoint("loss", 1, 0.5), ScalarPoint("acc", 3, 0.75)]
    assert scalars_of(b"not a protobuf \xff") == []


def test_a_record_still_being_written_waits_for_the_next_read(tmp_path: Path) -> None:
    path = write(tmp_path, scalar_event("loss", 1, 0.5), scalar_event("loss", 2, 0.25))
    whole = path.read_bytes()
    _, first_end = read_records(path, 0)
    cut = whole[: first_end - 5]
    path.write_bytes(cut)
    records, end = read_records(path, 0)
    assert end < len(cut) and [s.step for r in records for s in scalars_of(r)] == [1]
    path.write_bytes(whole)
    records, end = read_records(path, end)
    assert end == len(whole) and [s.step for r in records for s in scalars_of(r)] == [2]


def test_the_indexer_keeps_each_point_once_across_readers(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'vtm.db'}")
    migrate(engine)
    repo = RunRepository(engine)
    now = utcnow()
    run = repo.insert(
        NewRun(
            id="r1", task_id="t", fields={}, command=["x"], launch=LaunchRecord(), created_at=now
        )
    )
    logs = tmp_path / "logs"
    writer = EventFileWriter(str(logs))
    writer.add_event(scalar_event("train/loss", 10, 0.5))
    writer.flush()
    indexer = EventFileIndexer(repo, run, [logs])
    assert indexer.index() is not None
    assert indexer.index() is None  # nothing new
    writer.add_event(scalar_event("train/loss", 20, 0.25))
    writer.add_event(scalar_event("epoch", 1, 1.0))  # Lightning's: a position, not a metric
    writer.close()
    # A second reader that starts from the stored offsets (a restarted server) and the first
    # one, which has not seen the other's write: the points are kept once.
    again = EventFileIndexer(repo, repo.get("r1"), [logs])
    stored = again.index()
    assert stored is not None and stored.progress["train/loss"] == 0.25
    assert "epoch" not in stored.progress
    assert indexer.index() is None
    points = repo.metrics("r1")
    assert list(points) == ["train/loss"]
    assert [(p.step, p.value) for p in points["train/loss"]] == [(10, 0.5), (20, 0.25)]
