"""executor and host: where a run ran, and the credentials of a run a Ray cluster runs

Revision ID: 0007_executor_and_host
Revises: 0006_queue_and_energy
Create Date: 2026-12-03

``host`` is the machine the trainer ran on (this server's, or the node's of a cluster);
``node_id`` the cluster's id of that node (Ray's), by which VTM counts the GPUs its runs hold
on each node. ``ticket_hash`` and ``token_hash`` are SHA-256 digests: of the one-time ticket
a Ray job trades for its run's token, and of that token (neither is ever stored in clear).
Rows before this revision ran on the server's machine: their host stays NULL (unknown).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_executor_and_host"
down_revision = "0006_queue_and_energy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("node_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("ticket_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("token_hash")
        batch.drop_column("ticket_hash")
        batch.drop_column("node_id")
        batch.drop_column("host")
