"""Throwaway PostgreSQL databases for a test session: created with a unique name, dropped when the
session ends (tests/conftest.py's pytest_sessionfinish). One module so that every importer shares
the list of what this session created."""

from __future__ import annotations

import uuid

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
_created: list[str] = []


def fresh_pg_database(purpose: str) -> str | None:
    """A new, empty PostgreSQL database for this test session, or None when PostgreSQL is not there.
    Never a shared name: two checkouts testing at once, or a later run, would otherwise meet each
    other's schema revisions and rows."""
    import psycopg

    name = f"kefu_test_{purpose}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except Exception:
        return None
    _created.append(name)
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_created() -> None:
    if not _created:
        return
    from kefu.db import get_engine

    get_engine.cache_clear()  # let go of pooled connections before dropping
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as c:
            for name in _created:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # throwaway databases: a failed drop only costs disk
        pass
    _created.clear()
