"""Engine creation and schema migration for the metadata database.

SQLite (WAL) under ``VTM_HOME`` by default; PostgreSQL when ``VTM_DATABASE_URL`` names one.
Migrations (Alembic) are applied on every start, so an upgrade needs no manual step; a
database already at the newest revision is told by one query, without importing Alembic
(Alembic's imports and an empty upgrade: a quarter of a second of CPU at every start).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

MIGRATIONS = "vtm.store:migrations"
# The newest migration's revision; tests/test_store.py checks it against Alembic's head.
HEAD_REVISION = "0007_executor_and_host"


def normalize_url(url: str) -> str:
    """Let people write ``postgresql://`` and get the psycopg 3 driver VTM installs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while a run's output is being indexed; NORMAL sync is
    # durable across a process crash, which is the failure VTM must survive.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=8, max_overflow=16
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=16)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest revision (or to ``revision``: tests of a migration)."""
    with engine.begin() as connection:
        if revision == "head" and current_revision(connection) == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, as Alembic recorded it (None: not migrated yet)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None
