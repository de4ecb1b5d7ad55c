"""`kefu agent …` commands: agent keys are created here and only their salted hash is stored."""

from __future__ import annotations

import argparse

from kefu.cli import add_data_dir


def _create_key(args: argparse.Namespace) -> int:
    from gateway.security import create_agent_key
    from kefu.settings import get_settings

    key = create_agent_key(get_settings().sql_url, args.name)
    print(f"agent key for {args.name!r} (shown once; only its hash is stored):")
    print(key)
    return 0


def _list_keys(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from kefu.db import AgentKey, session_factory
    from kefu.settings import get_settings

    with session_factory(get_settings().sql_url)() as s:
        for row in s.execute(select(AgentKey).order_by(AgentKey.id)).scalars():
            print(f"{row.id}\t{row.name}\t{row.created_at:%Y-%m-%d %H:%M}")
    return 0


def _revoke_key(args: argparse.Namespace) -> int:
    from sqlalchemy import delete

    from kefu.db import AgentKey, session_factory
    from kefu.settings import get_settings

    with session_factory(get_settings().sql_url).begin() as s:
        n = s.execute(delete(AgentKey).where(AgentKey.name == args.name)).rowcount
    print(f"revoked {n} key(s) named {args.name!r}")
    return 0 if n else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    agent = subparsers.add_parser("agent", help="agent keys for the dashboard and agent API")
    add_data_dir(agent)
    sub = agent.add_subparsers(dest="agent_command", required=True)
    create = sub.add_parser("create-key", help="create an agent key (printed once)")
    add_data_dir(create)
    create.add_argument("--name", required=True, help="who the key is for")
    create.set_defaults(func=_create_key)
    lst = sub.add_parser("list-keys", help="list agent key names (never the keys)")
    add_data_dir(lst)
    lst.set_defaults(func=_list_keys)
    rev = sub.add_parser("revoke-key", help="delete the keys with this name")
    add_data_dir(rev)
    rev.add_argument("--name", required=True)
    rev.set_defaults(func=_revoke_key)
