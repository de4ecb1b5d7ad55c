"""Alembic environment: the connection comes from kefu (kefu.migrate passes it in), so the same
migrations run on SQLite and PostgreSQL, from `kefu db upgrade` or from the first engine a
service opens on an empty database."""

from __future__ import annotations

from alembic import context

from kefu.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - kefu.migrate always passes one
    raise RuntimeError("run migrations through `kefu db upgrade` (kefu.migrate), which passes the connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
