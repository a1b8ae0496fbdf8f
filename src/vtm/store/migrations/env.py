"""Alembic environment: VTM always hands in an open connection (see vtm.store.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from vtm.store.models import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("VTM migrations run through vtm.store.db.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
