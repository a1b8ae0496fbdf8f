"""All reads and writes of runs and their metric points."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from vtm.errors import Conflict, NotFound
from vtm.protocol import merge_tail
from vtm.states import RunStatus, check_transition
from vtm.store.models import MetricPointRow, RunRow
from vtm.store.records import (
    MetricPoint,
    NewRun,
    OutputBatch,
    RunData,
    as_utc,
    utcnow,
)

# Progress keys that locate a point in training rather than measure it.
POSITION_KEYS = frozenset({"epoch", "total_epochs"})


def _to_data(row: RunRow) -> RunData:
    return RunData(
        seq=row.seq,
        id=row.id,
        task_id=row.task_id,
        status=RunStatus(row.status),
        fields=dict(row.fields),
        command=list(row.command),
        launch=dict(row.launch),
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
    )


def is_metric(key: str, value: Any) -> bool:
    if key in POSITION_KEYS or isinstance(value, bool):
        return False
    return isinstance(value, int | float) and math.isfinite(value)


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
        row = RunRow(
            id=new.id,
            task_id=new.task_id,
            status=new.status.value,
            fields=new.fields,
            command=new.command,
            launch=new.launch,
            origin=new.origin,
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
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return _to_data(row)

    def previous_try(
        self, task_id: str, airflow: Mapping[str, Any], scan: int = 200
    ) -> RunData | None:
        """The run of the latest earlier try of the same Airflow task instance, if any.

        Looked for among the task's newest ``scan`` runs: a retry follows its try closely.
        """
        key = ("dagId", "runId", "taskId", "mapIndex")
        query = (
            select(RunRow).where(RunRow.task_id == task_id).order_by(RunRow.seq.desc()).limit(scan)
        )
        with self._sessions() as session:
            for row in session.scalars(query):
                theirs = (row.origin or {}).get("airflow") or {}
                if all(theirs.get(k) == airflow.get(k) for k in key) and int(
                    theirs.get("tryNumber", 0)
                ) < int(airflow.get("tryNumber", 0)):
                    return _to_data(row)
        return None

    def airflow_runs(self, dag_id: str, scan: int = 500) -> dict[tuple[str, str], RunData]:
        """The newest runs started by DAG ``dag_id``, keyed by (DAG run id, task id); the
        latest try wins. Looked for among the ``scan`` newest runs."""
        found: dict[tuple[str, str], RunData] = {}
        query = select(RunRow).order_by(RunRow.seq.desc()).limit(scan)
        with self._sessions() as session:
            for row in session.scalars(query):
                airflow = (row.origin or {}).get("airflow") or {}
                if airflow.get("dagId") == dag_id:
                    key = (str(airflow.get("runId")), str(airflow.get("taskId")))
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

    def queued(self) -> list[RunData]:
        """Queued runs, oldest first: the order they start in."""
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
                epoch = message.get("epoch")
                step = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else count
                progress.update(message)
                points.extend(
                    MetricPointRow(
                        run_id=run_id, name=k, step=step, value=float(v), recorded_at=now
                    )
                    for k, v in message.items()
                    if is_metric(k, v)
                )
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
