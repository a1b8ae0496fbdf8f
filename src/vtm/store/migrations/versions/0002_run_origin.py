"""run origin: where a run came from (an Airflow task try, `vtm exec`)

Revision ID: 0002_run_origin
Revises: 0001_runs_and_metric_points
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_run_origin"
down_revision = "0001_runs_and_metric_points"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("origin", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("origin")
