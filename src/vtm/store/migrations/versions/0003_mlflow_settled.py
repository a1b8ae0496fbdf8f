"""mlflow settled: when VTM made a finished run's MLflow side agree with it

Revision ID: 0003_mlflow_settled
Revises: 0002_run_origin
Create Date: 2026-12-02

Runs that ended before this revision get NULL: the next server start settles them too, so
MLflow runs their trainers left RUNNING are ended then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_mlflow_settled"
down_revision = "0002_run_origin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("mlflow_settled_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_runs_mlflow_settled_at", ["mlflow_settled_at"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_mlflow_settled_at")
        batch.drop_column("mlflow_settled_at")
