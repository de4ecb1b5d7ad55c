"""`kefu dialog …`: look at conversation state without a running server.

- `kefu dialog stats --json`: active conversations, stream backlog, Redis bytes per conversation.
- `kefu dialog show CID`: one conversation's window and slots (rebuilt from SQL if needed).
- `kefu dialog writer`: the transcript writer (Redis Stream -> SQL) on its own, for
  `KEFU_DIALOG_WRITER=off` deployments that run it as a separate container.
- `kefu dialog eval [--scenarios FILE] --json`: slot and rewrite accuracy on the scenario set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

from kefu.cli import add_data_dir

if TYPE_CHECKING:
    from services.dialog.store import DialogStore

SCENARIOS = Path(__file__).with_name("scenarios.jsonl")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dialog", help="dialog state: stats, show, eval")
    dsub = p.add_subparsers(dest="dialog_cmd", required=True)

    st = dsub.add_parser("stats", help="active conversations, stream backlog, bytes per conversation")
    add_data_dir(st)
    st.add_argument("--json", action="store_true")
    st.add_argument("--sample", type=int, default=50, help="conversations sampled for MEMORY USAGE")
    st.set_defaults(func=_stats)

    sh = dsub.add_parser("show", help="print one conversation's state")
    add_data_dir(sh)
    sh.add_argument("conversation_id")
    sh.set_defaults(func=_show)

    wr = dsub.add_parser("writer", help="run the transcript writer (Redis Stream -> SQL) in the foreground")
    add_data_dir(wr)
    wr.set_defaults(func=_writer)

    ev = dsub.add_parser("eval", help="slot and rewrite accuracy on the scenario set (in-process)")
    add_data_dir(ev)
    ev.add_argument("--scenarios", default=str(SCENARIOS))
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=_eval)


def _writer(args: argparse.Namespace) -> int:
    from kefu.settings import get_settings
    from services.dialog.sqlstore import prepare_sql
    from services.dialog.writer_process import child_argv, main

    s = get_settings()
    prepare_sql(s)
    return main(child_argv(redis_url=s.redis_url, prefix=s.redis_prefix, sql_url=s.sql_url,
                           ttl_s=s.conversation_ttl_s))


def _store() -> DialogStore:
    from kefu.settings import get_settings
    from services.dialog.sqlstore import TranscriptDB
    from services.dialog.store import DialogStore

    s = get_settings()
    return DialogStore.from_settings(s, TranscriptDB(s.sql_url))


def _stats(args: argparse.Namespace) -> int:
    async def run() -> dict:
        store = _store()
        try:
            active = await store.list_active(None, 10000)
            sizes = [await store.memory_usage(c["conversation_id"]) for c in active[: args.sample]]
            stream = await store.stream_stats()
            by_status: dict[str, int] = {}
            for c in active:
                by_status[c["status"]] = by_status.get(c["status"], 0) + 1
            return {"active": len(active), "by_status": by_status, **stream,
                    "bytes_per_conversation_avg": round(sum(sizes) / len(sizes), 1) if sizes else None,
                    "bytes_per_conversation_max": max(sizes) if sizes else None}
        finally:
            await store.close()

    out = asyncio.run(run())
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def _show(args: argparse.Namespace) -> int:
    async def run() -> dict | None:
        store = _store()
        try:
            st = await store.load(args.conversation_id)
            return st.public() if st else None
        finally:
            await store.close()

    out = asyncio.run(run())
    if out is None:
        print(f"unknown conversation {args.conversation_id}")
        return 1
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from services.dialog.scenarios import evaluate, load_scenarios

    res = evaluate(load_scenarios(Path(args.scenarios)))
    summary = {k: v for k, v in res.items() if k != "failures"}
    if not args.json:
        for f in res["failures"][:30]:
            print(json.dumps(f, ensure_ascii=False))
    print(json.dumps(summary))
    return 0
