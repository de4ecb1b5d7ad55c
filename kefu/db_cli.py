"""`kefu db upgrade` / `kefu db current`: the SQL schema's Alembic migrations."""

from __future__ import annotations

import argparse

from kefu.cli import add_data_dir


def _upgrade(args: argparse.Namespace) -> int:
    from kefu import migrate
    from kefu.db import make_engine
    from kefu.settings import get_settings

    engine = make_engine(get_settings().sql_url)
    before, after = migrate.upgrade(engine, args.revision)
    print(f"database at {after} (was {before or 'empty'})")
    return 0


def _current(args: argparse.Namespace) -> int:
    from kefu import migrate
    from kefu.db import make_engine
    from kefu.settings import get_settings

    rev = migrate.current(make_engine(get_settings().sql_url))
    print(f"{rev or 'empty'} (head: {migrate.head()})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="SQL schema migrations (Alembic)")
    add_data_dir(db)
    sub = db.add_subparsers(dest="db_command", required=True)
    up = sub.add_parser("upgrade", help="migrate the database to the newest schema (or --revision)")
    add_data_dir(up)
    up.add_argument("--revision", default="head")
    up.set_defaults(func=_upgrade)
    cur = sub.add_parser("current", help="the database's schema revision")
    add_data_dir(cur)
    cur.set_defaults(func=_current)
