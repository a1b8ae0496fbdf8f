"""queue and energy: a run's priority, and the energy its GPUs used

Revision ID: 0006_queue_and_energy
Revises: 0005_event_offsets
Create Date: 2026-12-02

``priority`` orders the queue (higher first); rows before this revision get 0, the default.
``gpu_energy_start`` holds each GPU's NVML energy counter (mJ) when the run started, so the
run's ``energy_wh`` can be worked out when it ends, even by a later server.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_queue_and_energy"
down_revision = "0005_event_offsets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("gpu_energy_start", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("energy_wh", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("energy_wh")
        batch.drop_column("gpu_energy_start")
        batch.drop_column("priority")
