"""event offsets: how far VTM has read each TensorBoard event file of a run

Revision ID: 0005_event_offsets
Revises: 0004_airflow_origin
Create Date: 2026-12-02

``{"<path>": <byte offset>}``; rows before this revision get ``{}`` (their runs had no
scalars read from event files).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_event_offsets"
down_revision = "0004_airflow_origin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("event_offsets", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("event_offsets")
