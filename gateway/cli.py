"""`kefu agent …` (agent keys: created here, only their salted hash is stored) and
`kefu orders import` (orders into the built-in table)."""

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


def _import_orders(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gateway.orders.importer import import_orders
    from kefu.settings import get_settings

    path = Path(args.file)
    if not path.is_file():
        print(f"no such file: {path}")
        return 2
    report = import_orders(get_settings().sql_url, path)
    for bad in report.rejected:
        print(f"{path.name} line {bad['line']}" + (f" (order {bad['id']})" if bad.get("id") else "")
              + f": {bad['reason']}")
    print(f"imported {report.written} orders, rejected {len(report.rejected)}")
    return 0 if report.written or not report.rejected else 1


def _eval_conversations(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from gateway.evaluation.conversations import Run, evaluate, load
    from kefu.settings import get_settings

    convs = load(Path(args.file), args.split, args.lang)
    if not convs:
        print(f"no conversations in {args.file} (split={args.split}, lang={args.lang})")
        return 2
    settings = get_settings()
    if args.gateway:
        run = Run(args.gateway.rstrip("/"), settings.sql_url, args.identity_secret)
        out = evaluate(run, convs)
    else:
        from gateway.evaluation.stack import private_stack

        with private_stack(settings.data_dir, args.llm) as stack:
            run = Run(stack.url, stack.sql_url, stack.identity_secret)
            out = evaluate(run, convs)
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in run.results))
    if not args.json:
        print(f"{out['n']} turns: pass rate {out['pass_rate']:.3f}, harmful {out['harmful']}")
        for lang, r in out["by_lang"].items():
            print(f"  {lang}: {r['n']} turns, pass rate {r['pass_rate']:.3f}, harmful {r['harmful']}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    ev = subparsers.add_parser("eval", help="evaluate kefu on scripted conversations")
    add_data_dir(ev)
    evsub = ev.add_subparsers(dest="eval_command", required=True)
    conv = evsub.add_parser("conversations", help="play scripted conversations and judge every reply "
                                                  "(docs/eval-conversations.md)")
    add_data_dir(conv)
    conv.add_argument("--file", required=True, help="JSONL of conversations")
    conv.add_argument("--gateway", help="a running gateway's URL (default: a private stack over the data dir)")
    conv.add_argument("--split", choices=["dev", "test"], help="only this split")
    conv.add_argument("--lang", choices=["en", "zh"], help="only this language")
    conv.add_argument("--llm", help="KEFU_LLM_URL for the private stack (default: the settings'; off = templates)")
    conv.add_argument("--identity-secret", help="with --gateway: its KEFU_IDENTITY_SECRET (signed-in shoppers)")
    conv.add_argument("--out", help="write every judged turn as JSONL here")
    conv.add_argument("--json", action="store_true", help="only the JSON summary line")
    conv.set_defaults(func=_eval_conversations)

    orders = subparsers.add_parser("orders", help="orders in the built-in order table")
    add_data_dir(orders)
    osub = orders.add_subparsers(dest="orders_command", required=True)
    imp = osub.add_parser("import", help="orders from CSV or JSONL (id, email, status, items, total, ...)")
    add_data_dir(imp)
    imp.add_argument("--file", required=True)
    imp.set_defaults(func=_import_orders)

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
