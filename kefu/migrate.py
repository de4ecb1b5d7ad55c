"""Schema migrations (Alembic) for kefu's SQL database: `kefu db upgrade`, and the same upgrade
on the first engine a process opens, so a fresh SQLite file or an older install is at head
before any service reads it.

Several processes may open the database at once (`kefu up` starts five): the upgrade runs under
a lock — a file lock beside a SQLite database, an advisory lock on PostgreSQL — and is a no-op
once the database is at head.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("kefu.migrate")

SCRIPTS = Path(__file__).resolve().parent / "migrations"
PG_LOCK_ID = 0x6B656675  # "kefu"


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head() -> str:
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None, "no migrations found"
    return rev


def current(engine: Engine) -> str | None:
    with engine.connect() as c:
        return MigrationContext.configure(c).get_current_revision()


@contextlib.contextmanager
def _locked(engine: Engine, conn: Connection) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_ID})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_ID})
        return
    db = engine.url.database
    path = Path(db).with_suffix(".migrate.lock") if db and db != ":memory:" else None
    if path is None:
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to `revision`; returns (revision before, revision after)."""
    with engine.connect() as conn, _locked(engine, conn):
        before = MigrationContext.configure(conn).get_current_revision()
        if before != head() or revision != "head":
            log.info("migrating database from %s to %s", before or "an empty schema", revision)
            command.upgrade(_config(conn), revision)
            conn.commit()
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after


def ensure_head(engine: Engine) -> None:
    """Cheap when the database is at head (one SELECT); otherwise upgrade it."""
    if current(engine) != head():
        upgrade(engine)
