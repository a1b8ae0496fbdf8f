"""airflow origin: a run's Airflow task try in indexed columns

Revision ID: 0004_airflow_origin
Revises: 0003_mlflow_settled
Create Date: 2026-12-09

The run's ``origin`` JSON stays what the API shows; its ``airflow`` part (DAG id, DAG run id,
task id, map index, try number) is copied into columns with one index, so a retry's previous
try and a DAG run's runs are found by a query, not by reading the newest few hundred rows.
Existing rows are filled from their origin here, a page of rows at a time. A value that could
never have come through the API (an id longer than Airflow's 250 characters, a try number that
is not a whole number) leaves that row's columns NULL: it stays shown, it is just not linked.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_airflow_origin"
down_revision = "0003_mlflow_settled"
branch_labels = None
depends_on = None

ID_LEN = 250  # Airflow's, and the API's limit on each id
PAGE = 1000
COLUMNS = (
    "airflow_dag_id",
    "airflow_dag_run_id",
    "airflow_task_id",
    "airflow_map_index",
    "airflow_try_number",
)

runs = sa.table(
    "runs",
    sa.column("seq", sa.BigInteger()),
    sa.column("origin", sa.JSON()),
    sa.column("airflow_dag_id", sa.String(ID_LEN)),
    sa.column("airflow_dag_run_id", sa.String(ID_LEN)),
    sa.column("airflow_task_id", sa.String(ID_LEN)),
    sa.column("airflow_map_index", sa.Integer()),
    sa.column("airflow_try_number", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name in COLUMNS[:3]:
            batch.add_column(sa.Column(name, sa.String(ID_LEN), nullable=True))
        for name in COLUMNS[3:]:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    _fill(op.get_bind())
    op.create_index("ix_runs_airflow", "runs", list(COLUMNS))  # after the fill: one build


def downgrade() -> None:
    op.drop_index("ix_runs_airflow", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)


def _fill(bind: sa.Connection) -> None:
    update = (
        runs.update()
        .where(runs.c.seq == sa.bindparam("row_seq"))
        .values({name: sa.bindparam(name) for name in COLUMNS})
    )
    after = 0
    while True:
        page = bind.execute(
            sa.select(runs.c.seq, runs.c.origin)
            .where(runs.c.seq > after)
            .order_by(runs.c.seq)
            .limit(PAGE)
        ).all()
        if not page:
            return
        after = page[-1].seq
        values = [
            {"row_seq": seq, **columns}
            for seq, origin in page
            if (columns := _columns(origin)) is not None
        ]
        if values:
            bind.execute(update, values)


def _columns(origin: Any) -> dict[str, Any] | None:
    """The columns of an origin that names an Airflow task try (as the repository writes them
    on insert in this revision), else None."""
    airflow = origin.get("airflow") if isinstance(origin, dict) else None
    if not isinstance(airflow, dict):
        return None
    ids = [airflow.get(key) for key in ("dagId", "runId", "taskId")]
    if not all(isinstance(v, str) and 0 < len(v) <= ID_LEN for v in ids):
        return None
    numbers = []
    for key, default in (("mapIndex", -1), ("tryNumber", None)):
        value = airflow.get(key)
        value = default if value is None else value
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        numbers.append(value)
    return dict(zip(COLUMNS, [*ids, *numbers], strict=True))
