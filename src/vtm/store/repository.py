"""All reads and writes of runs and their metric points."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from vtm.errors import Conflict, NotFound
from vtm.protocol import POSITION_KEYS, merge_tail
from vtm.states import RunStatus, check_transition
from vtm.store.launch import LaunchRecord
from vtm.store.models import MetricPointRow, RunRow
from vtm.store.records import (
    AIRFLOW_ID_LEN,
    MetricPoint,
    NewRun,
    OutputBatch,
    RunData,
    ScalarPoint,
    as_utc,
    utcnow,
)

# Where a progress bar on the output stands (``{"n", "total"}``), kept in ``progress``.
BAR_KEY = "bar"


@dataclass(frozen=True)
class AirflowTry:
    """The Airflow task try of a run's origin, as its indexed columns hold it."""

    dag_id: str
    dag_run_id: str
    task_id: str
    map_index: int  # -1: not a mapped task
    try_number: int

    @classmethod
    def of(cls, airflow: Mapping[str, Any] | None) -> AirflowTry | None:
        """The try an origin's ``airflow`` part names (``dagId``, ``runId``, ``taskId``,
        ``mapIndex``, ``tryNumber``); None when it names none the columns can hold."""
        if not airflow:
            return None
        dag_id, dag_run_id, task_id = (airflow.get(k) for k in ("dagId", "runId", "taskId"))
        map_index = airflow.get("mapIndex")
        map_index = -1 if map_index is None else map_index
        try_number = airflow.get("tryNumber")
        if not (_id(dag_id) and _id(dag_run_id) and _id(task_id)):
            return None
        if not (_whole(map_index) and _whole(try_number)):
            return None
        return cls(dag_id, dag_run_id, task_id, map_index, try_number)

    def columns(self) -> dict[str, Any]:
        return {
            "airflow_dag_id": self.dag_id,
            "airflow_dag_run_id": self.dag_run_id,
            "airflow_task_id": self.task_id,
            "airflow_map_index": self.map_index,
            "airflow_try_number": self.try_number,
        }


def _id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= AIRFLOW_ID_LEN


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_data(row: RunRow) -> RunData:
    return RunData(
        seq=row.seq,
        id=row.id,
        task_id=row.task_id,
        status=RunStatus(row.status),
        fields=dict(row.fields),
        command=list(row.command),
        launch=LaunchRecord.from_json(row.launch),
        progress=dict(row.progress),
        meta=dict(row.meta),
        mlflow_run_id=row.mlflow_run_id,
        log_tail=list(row.log_tail),
        exit_code=row.exit_code,
        error=row.error,
        created_at=as_utc(row.created_at) or utcnow(),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        updated_at=as_utc(row.updated_at) or utcnow(),
        log_offset=row.log_offset,
        at_line_start=row.at_line_start,
        line_count=row.line_count,
        progress_count=row.progress_count,
        protocol_errors=row.protocol_errors,
        stop_requested=row.stop_requested,
        gpus=list(row.gpus),
        origin=dict(row.origin or {}),
        event_offsets={str(k): int(v) for k, v in (row.event_offsets or {}).items()},
        priority=row.priority or 0,
        gpu_energy_start=(
            {int(k): int(v) for k, v in row.gpu_energy_start.items()}
            if row.gpu_energy_start is not None
            else None
        ),
        energy_wh=row.energy_wh,
        host=row.host,
        node_id=row.node_id,
        ticket_hash=row.ticket_hash,
        token_hash=row.token_hash,
    )


def is_metric(key: str, value: Any) -> bool:
    if key in POSITION_KEYS or isinstance(value, bool):
        return False
    return isinstance(value, int | float) and math.isfinite(value)


def _step(message: dict[str, Any], count: int) -> int:
    """A progress message's x: the trainer's own ``step`` (Hugging Face reports fractional
    epochs), else a whole ``epoch``, else how many messages came so far."""
    for key in ("step", "epoch"):
        value = message.get(key)
        if _whole(value):
            return value
    return count


class RunRepository:
    def __init__(self, engine: Engine, *, tail_lines: int = 50) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._tail_lines = tail_lines

    def _row(self, session: Session, run_id: str) -> RunRow:
        row = session.scalars(select(RunRow).where(RunRow.id == run_id)).one_or_none()
        if row is None:
            raise NotFound(f"unknown run {run_id!r}")
        return row

    def insert(self, new: NewRun) -> RunData:
        airflow = AirflowTry.of(new.origin.get("airflow"))
        row = RunRow(
            id=new.id,
            task_id=new.task_id,
            status=new.status.value,
            fields=new.fields,
            command=new.command,
            launch=new.launch.to_json(),
            origin=new.origin,
            **(airflow.columns() if airflow else {}),
            progress={},
            meta={},
            log_tail=[],
            created_at=new.created_at,
            started_at=new.started_at,
            updated_at=new.created_at,
            log_offset=0,
            at_line_start=True,
            line_count=0,
            progress_count=0,
            protocol_errors=0,
            stop_requested=False,
            gpus=[],
            priority=new.priority,
            host=new.host,
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return _to_data(row)

    def previous_try(self, task_id: str, airflow: Mapping[str, Any]) -> RunData | None:
        """The run of ``task_id`` that the latest earlier try of the same Airflow task
        instance (DAG, DAG run, task, map index) started, if any: an indexed query, however
        many runs came since."""
        this = AirflowTry.of(airflow)
        if this is None:
            return None
        query = (
            select(RunRow)
            .where(
                RunRow.airflow_dag_id == this.dag_id,
                RunRow.airflow_dag_run_id == this.dag_run_id,
                RunRow.airflow_task_id == this.task_id,
                RunRow.airflow_map_index == this.map_index,
                RunRow.airflow_try_number < this.try_number,
                RunRow.task_id == task_id,
            )
            .order_by(RunRow.seq.desc())
            .limit(1)
        )
        with self._sessions() as session:
            row = session.scalars(query).one_or_none()
            return _to_data(row) if row is not None else None

    def airflow_runs(
        self, dag_id: str, dag_run_ids: Collection[str]
    ) -> dict[tuple[str, str], RunData]:
        """The runs DAG ``dag_id`` started in the DAG runs ``dag_run_ids``, keyed by (DAG run
        id, task id); of several (a task's tries, a mapped task's instances) the newest wins."""
        found: dict[tuple[str, str], RunData] = {}
        wanted = sorted(set(dag_run_ids))
        with self._sessions() as session:
            for at in range(0, len(wanted), 500):
                query = (
                    select(RunRow)
                    .where(
                        RunRow.airflow_dag_id == dag_id,
                        RunRow.airflow_dag_run_id.in_(wanted[at : at + 500]),
                    )
                    .order_by(RunRow.seq.desc())
                )
                for row in session.scalars(query):
                    key = (str(row.airflow_dag_run_id), str(row.airflow_task_id))
                    found.setdefault(key, _to_data(row))
        return found

    def get(self, run_id: str) -> RunData:
        with self._sessions() as session:
            return _to_data(self._row(session, run_id))

    def page(
        self,
        *,
        statuses: Sequence[RunStatus] = (),
        task_id: str | None = None,
        limit: int = 50,
        before_seq: int | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        id_prefix: str | None = None,
    ) -> tuple[list[RunData], int | None]:
        """A page of runs, newest first, and the cursor of the next page (None at the end)."""
        query = select(RunRow).order_by(RunRow.seq.desc()).limit(limit + 1)
        if id_prefix:
            # autoescape: a % or _ in the prefix is a character, never a wildcard.
            query = query.where(RunRow.id.startswith(id_prefix, autoescape=True))
        if statuses:
            query = query.where(RunRow.status.in_([s.value for s in statuses]))
        if task_id is not None:
            query = query.where(RunRow.task_id == task_id)
        if before_seq is not None:
            query = query.where(RunRow.seq < before_seq)
        if created_after is not None:
            query = query.where(RunRow.created_at >= created_after)
        if created_before is not None:
            query = query.where(RunRow.created_at < created_before)
        with self._sessions() as session:
            rows = list(session.scalars(query))
        runs = [_to_data(r) for r in rows[:limit]]
        return runs, (runs[-1].seq if len(rows) > limit else None)

    def median_durations(self, task_ids: Collection[str], last: int = 20) -> dict[str, float]:
        """Seconds the ``last`` completed runs of each task took, their median, by task id;
        a task with none is left out. What the queue's start estimates rest on."""
        medians: dict[str, float] = {}
        with self._sessions() as session:
            for task_id in sorted(set(task_ids)):
                query = (
                    select(RunRow.started_at, RunRow.finished_at)
                    .where(
                        RunRow.task_id == task_id,
                        RunRow.status == RunStatus.COMPLETED.value,
                        RunRow.started_at.is_not(None),
                        RunRow.finished_at.is_not(None),
                    )
                    .order_by(RunRow.seq.desc())
                    .limit(last)
                )
                took = sorted(
                    (as_utc(end) - as_utc(start)).total_seconds()  # type: ignore[operator]
                    for start, end in session.execute(query)
                )
                if took:
                    mid = len(took) // 2
                    medians[task_id] = (
                        took[mid] if len(took) % 2 else (took[mid - 1] + took[mid]) / 2
                    )
        return medians

    def add_points(self, run_id: str, points: Mapping[str, float], step: int) -> None:
        """Keep samples VTM took itself (GPU telemetry) as metric points at ``step``; the
        run's ``progress`` stays what its trainer reported."""
        now = utcnow()
        with self._sessions.begin() as session:
            session.add_all(
                MetricPointRow(run_id=run_id, name=name, step=step, value=value, recorded_at=now)
                for name, value in points.items()
                if math.isfinite(value)
            )

    def queued(self) -> list[RunData]:
        """Queued runs, oldest first (the queue's own order is ``runs.queue``'s)."""
        query = select(RunRow).where(RunRow.status == RunStatus.QUEUED.value).order_by(RunRow.seq)
        with self._sessions() as session:
            return [_to_data(r) for r in session.scalars(query)]

    def unfinished(self) -> list[RunData]:
        """Queued and running runs, oldest first: what a starting server must pick up."""
        query = (
            select(RunRow)
            .where(RunRow.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value]))
            .order_by(RunRow.seq)
        )
        with self._sessions() as session:
            return [_to_data(r) for r in session.scalars(query)]

    def unsettled(self, after_seq: int = 0, limit: int = 100) -> list[RunData]:
        """Finished runs whose MLflow side VTM has not settled yet, oldest first, from
        ``after_seq`` on (a page at a time: after an upgrade that is every earlier run)."""
        terminal = [RunStatus.COMPLETED.value, RunStatus.FAILED.value, RunStatus.STOPPED.value]
        query = (
            select(RunRow)
            .where(
                RunRow.mlflow_settled_at.is_(None),
                RunRow.status.in_(terminal),
                RunRow.seq > after_seq,
            )
            .order_by(RunRow.seq)
            .limit(limit)
        )
        with self._sessions() as session:
            return [_to_data(r) for r in session.scalars(query)]

    def mark_settled(self, run_id: str) -> None:
        """Record that the run's MLflow side agrees with it; not a change people see, so
        ``updated_at`` stays."""
        with self._sessions.begin() as session:
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(mlflow_settled_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def count(self, status: RunStatus | None = None) -> int:
        query = select(func.count()).select_from(RunRow)
        if status is not None:
            query = query.where(RunRow.status == status.value)
        with self._sessions() as session:
            return int(session.scalar(query) or 0)

    def transition(self, run_id: str, new: RunStatus, **changes: Any) -> RunData:
        """Move a run to ``new`` (checked against the allowed transitions) and set ``changes``.

        The UPDATE is conditional on the status read, so two writers racing (a stop and a
        finish) cannot both win: the loser gets Conflict with the state that won.
        """
        with self._sessions.begin() as session:
            row = self._row(session, run_id)
            current = RunStatus(row.status)
            check_transition(current, new)
            values = {"status": new.value, "updated_at": utcnow(), **changes}
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == current.value)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(f"run {run_id} changed state while being updated")
            session.expire(row)
            return _to_data(self._row(session, run_id))

    def set_priority(self, run_id: str, priority: int) -> RunData:
        """Change a queued run's priority; Conflict once it is no longer queued."""
        with self._sessions.begin() as session:
            self._row(session, run_id)
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == RunStatus.QUEUED.value)
                .values(priority=priority, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(f"run {run_id} is no longer queued: its priority stays")
            return _to_data(self._row(session, run_id))

    def set_fields(self, run_id: str, **changes: Any) -> RunData:
        """Update columns that do not change the status (stop requested, GPUs)."""
        with self._sessions.begin() as session:
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(updated_at=utcnow(), **changes)
                .execution_options(synchronize_session=False)
            )
            return _to_data(self._row(session, run_id))

    def apply_output(self, run_id: str, batch: OutputBatch) -> RunData | None:
        """Index one read of output.log: counters, tail, progress, meta, metric points.

        Applied only if the stored offset is still ``batch.expected_offset``, in one
        transaction with the new offset, so no line is ever indexed twice. Returns None
        when the offset moved (another indexer got there first).
        """
        now = utcnow()
        with self._sessions.begin() as session:
            row = self._row(session, run_id)
            if row.log_offset != batch.expected_offset:
                return None
            progress = dict(row.progress)
            points: list[MetricPointRow] = []
            count = row.progress_count
            for message in batch.progress:
                count += 1
                step = _step(message, count)
                progress.update(message)
                points.extend(
                    MetricPointRow(
                        run_id=run_id, name=k, step=step, value=float(v), recorded_at=now
                    )
                    for k, v in message.items()
                    if is_metric(k, v)
                )
            if batch.bar is not None:
                progress[BAR_KEY] = {"n": batch.bar[0], "total": batch.bar[1]}
            meta = dict(row.meta)
            for message in batch.meta:
                meta.update(message)
            mlflow_run_id = meta.get("mlflow_run_id") or meta.get("mlflowRunId")
            tail = merge_tail(list(row.log_tail), batch.tail, self._tail_lines)
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.log_offset == batch.expected_offset)
                .values(
                    log_offset=batch.expected_offset + batch.consumed,
                    at_line_start=batch.at_line_start,
                    line_count=RunRow.line_count + batch.lines,
                    protocol_errors=RunRow.protocol_errors + batch.protocol_errors,
                    progress_count=count,
                    progress=progress,
                    meta=meta,
                    mlflow_run_id=str(mlflow_run_id) if mlflow_run_id else row.mlflow_run_id,
                    log_tail=tail,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            session.add_all(points)
            session.flush()
            session.expire(row)
            return _to_data(self._row(session, run_id))

    def apply_scalars(
        self,
        run_id: str,
        expected: Mapping[str, int],
        offsets: Mapping[str, int],
        scalars: Iterable[ScalarPoint],
    ) -> RunData | None:
        """Keep scalars read from the run's event files as metric points (the latest value
        of each in ``progress``) and how far each file was read, in one transaction; only if
        the stored offsets are still ``expected`` (else None: another reader got there).
        Once the trainer has sent protocol progress, only the offsets move."""
        now = utcnow()
        with self._sessions.begin() as session:
            row = session.scalars(
                select(RunRow).where(RunRow.id == run_id).with_for_update()
            ).one_or_none()
            if row is None:
                raise NotFound(f"unknown run {run_id!r}")
            if dict(row.event_offsets or {}) != dict(expected):
                return None
            progress = dict(row.progress)
            # A trainer that speaks the protocol reports its metrics there; what it also
            # writes for TensorBoard would be the same series twice.
            kept = scalars if row.progress_count == 0 else []
            points = [
                MetricPointRow(
                    run_id=run_id, name=p.name, step=p.step, value=p.value, recorded_at=now
                )
                for p in kept
                # Lightning logs its 0-based "epoch" as a scalar: a position, not a measure.
                if math.isfinite(p.value) and p.name not in POSITION_KEYS
            ]
            for point in points:
                progress[point.name] = point.value
            row.event_offsets = dict(offsets)
            row.progress = progress
            row.updated_at = now
            session.add_all(points)
            session.flush()
            return _to_data(row)

    def metrics(
        self, run_id: str, names: Iterable[str] | None = None
    ) -> dict[str, list[MetricPoint]]:
        query = (
            select(MetricPointRow)
            .where(MetricPointRow.run_id == run_id)
            .order_by(MetricPointRow.name, MetricPointRow.id)
        )
        if names is not None:
            query = query.where(MetricPointRow.name.in_(list(names)))
        series: dict[str, list[MetricPoint]] = {}
        with self._sessions() as session:
            self._row(session, run_id)
            for p in session.scalars(query):
                point = MetricPoint(p.step, p.value, as_utc(p.recorded_at) or utcnow())
                series.setdefault(p.name, []).append(point)
        return series

    def last_metric_values(self, wanted: Mapping[str, str]) -> dict[str, float]:
        """Each run's last reported point of one metric: ``{run id: metric name}`` in,
        ``{run id: value}`` out (runs that reported none are left out). One query per metric
        name and chunk of runs, not one per run: the quality report asks for hundreds."""
        by_name: dict[str, list[str]] = {}
        for run_id, name in wanted.items():
            by_name.setdefault(name, []).append(run_id)
        values: dict[str, float] = {}
        with self._sessions() as session:
            for name, run_ids in by_name.items():
                for at in range(0, len(run_ids), 500):
                    last = (
                        select(func.max(MetricPointRow.id))
                        .where(
                            MetricPointRow.name == name,
                            MetricPointRow.run_id.in_(run_ids[at : at + 500]),
                        )
                        .group_by(MetricPointRow.run_id)
                    )
                    rows = session.execute(
                        select(MetricPointRow.run_id, MetricPointRow.value).where(
                            MetricPointRow.id.in_(last)
                        )
                    )
                    values.update((run_id, value) for run_id, value in rows)
        return values
