"""runs and metric points

Revision ID: 0001_runs_and_metric_points
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_runs_and_metric_points"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("task_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("command", sa.JSON(), nullable=False),
        sa.Column("launch", sa.JSON(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("mlflow_run_id", sa.String(200)),
        sa.Column("log_tail", sa.JSON(), nullable=False),
        sa.Column("exit_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", When, nullable=False),
        sa.Column("started_at", When),
        sa.Column("finished_at", When),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("log_offset", sa.BigInteger(), nullable=False),
        sa.Column("at_line_start", sa.Boolean(), nullable=False),
        sa.Column("line_count", sa.BigInteger(), nullable=False),
        sa.Column("progress_count", sa.Integer(), nullable=False),
        sa.Column("protocol_errors", sa.Integer(), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("gpus", sa.JSON(), nullable=False),
    )
    op.create_index("ix_runs_status_seq", "runs", ["status", "seq"])
    op.create_index("ix_runs_task_seq", "runs", ["task_id", "seq"])
    op.create_table(
        "metric_points",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(40),
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("recorded_at", When, nullable=False),
    )
    op.create_index("ix_metric_points_run_name_step", "metric_points", ["run_id", "name", "step"])


def downgrade() -> None:
    op.drop_table("metric_points")
    op.drop_table("runs")
