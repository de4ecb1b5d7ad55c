"""Alembic migrations of kefu's one SQL schema (`kefu db upgrade`; see kefu/migrate.py)."""
