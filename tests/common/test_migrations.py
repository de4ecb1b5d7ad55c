"""`kefu db upgrade` carries a database made by the previous release (create_all, no Alembic) to
head without losing a row — on SQLite and on PostgreSQL — and a fresh database migrates on first
use. The previous schema is kept verbatim in previous_schema_db.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from kefu import migrate
from kefu.db import Base, make_engine
from tests.pg import fresh_pg_database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _previous():
    spec = importlib.util.spec_from_file_location("previous_schema_db", HERE / "previous_schema_db.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["previous_schema_db"] = mod  # SQLAlchemy resolves the models' annotations through it
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _fill_previous(url: str) -> dict[str, int]:
    """A database as the previous release left it, with a row in every table."""
    prev = _previous()
    engine = prev.make_engine(url)
    prev.Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    with prev.session_factory(url).begin() as s:
        s.add(prev.Product(id="P1", title="Shoe", description="d", category="shoes", brand="b", price=9.5,
                           currency="USD", stock=3, url="", image_url="", attributes={"color": "red"}, updated_at=now))
        s.add(prev.Order(id="KF100001", email="a@b.c", status="paid", items=[{"title": "Shoe", "qty": 1}], total=9.5,
                         currency="USD", shipping_address="1 Main St", created_at=now, updated_at=now))
        s.add(prev.Conversation(id="c1", token_hash="h", status="bot", lang="en", slots={}, created_at=now,
                                updated_at=now))
        s.flush()
        s.add(prev.MessageRow(conversation_id="c1", seq=1, message_id="m1", role="user", text="hi", slots={},
                              products=[], evidence={}, created_at=now))
        s.add(prev.AgentKey(name="ops", key_hash="hmac-sha256$x$y", created_at=now))
    engine.dispose()
    return {"products": 1, "orders": 1, "conversations": 1, "messages": 1, "agent_keys": 1}


def _counts(url: str, tables: list[str]) -> dict[str, int]:
    with create_engine(url.replace("postgresql://", "postgresql+psycopg://")).connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def _pg_url() -> str:
    url = fresh_pg_database("migrations")
    if url is None:
        pytest.skip("PostgreSQL not available at 127.0.0.1:5432")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def previous_db(request, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else _pg_url()


def test_upgrade_from_the_previous_release_keeps_every_row(previous_db: str) -> None:
    before = _fill_previous(previous_db)
    engine = make_engine(previous_db)
    assert migrate.current(engine) is None
    was, now = migrate.upgrade(engine)
    assert (was, now) == (None, migrate.head())
    assert _counts(previous_db, list(before)) == before
    cols = {c["name"] for c in inspect(engine).get_columns("orders")}
    assert {"phone", "postcode"} <= cols
    assert {"order_actions", "order_returns"} <= set(inspect(engine).get_table_names())
    with engine.connect() as c:
        row = c.execute(text("SELECT email, phone, postcode FROM orders WHERE id = 'KF100001'")).one()
    assert row == ("a@b.c", "", "")
    assert migrate.upgrade(engine) == (migrate.head(), migrate.head())  # a second run changes nothing
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []


def test_kefu_db_upgrade_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    _fill_previous(url)
    env = {"DATABASE_URL": url, "KEFU_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "kefu.cli", "db", "upgrade"], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"database at {migrate.head()} (was empty)" in out.stdout
    cur = subprocess.run([sys.executable, "-m", "kefu.cli", "db", "current"], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    assert cur.stdout.startswith(migrate.head())
