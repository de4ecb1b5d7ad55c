"""`kefu kb …`: import help-center files, list and remove documents, search, evaluate — in-process
on the data dir's SQL (the retrieval service picks the changes up on its own)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .embedders import EMBEDDERS


def _settings():
    from kefu.settings import get_settings

    return get_settings()


def _cmd_import(args: argparse.Namespace) -> int:
    from kefu.db import get_engine

    from . import open_kb
    from .store import import_paths

    report = import_paths(get_engine(_settings().sql_url), [Path(p) for p in args.paths], lang=args.lang)
    for f in report.failed:
        print(f"error: {f['file']}: {f['error']} (skipped)", file=sys.stderr)
    print(f"[kb] {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
          f"{len(report.removed)} removed, {len(report.failed)} failed; {report.passages} passages",
          file=sys.stderr)
    if report.imported and not args.no_index:
        stats = open_kb(_settings()).sync()  # embeds the new passages now, not on the first question
        print(f"[kb] indexed {stats['passages']} passages with {stats['model']} in {stats['seconds']}s",
              file=sys.stderr)
    print(json.dumps(report.as_dict(), ensure_ascii=False))
    return 0 if report.imported else 1


def _cmd_list(args: argparse.Namespace) -> int:
    from kefu.db import get_engine

    from .store import documents

    print(json.dumps({"documents": documents(get_engine(_settings().sql_url))}, ensure_ascii=False, indent=1))
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    from kefu.db import get_engine

    from .store import remove_document

    engine = get_engine(_settings().sql_url)
    missing = [k for k in args.documents if not remove_document(engine, k)]
    for k in missing:
        print(f"error: no document {k!r}", file=sys.stderr)
    print(json.dumps({"removed": len(args.documents) - len(missing), "missing": missing}))
    return 1 if missing else 0


def _cmd_search(args: argparse.Namespace) -> int:
    from kefu.vocab import detect_lang

    from . import open_kb
    from .index import THRESHOLD

    kb = open_kb(_settings(), args.embedder)
    hits = kb.search(args.question, args.lang or detect_lang(args.question), args.intent, k=args.k,
                     threshold=None if args.all else THRESHOLD)
    print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from . import open_kb
    from .evaluate import evaluate, read_questions

    path = Path(args.questions)
    if not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    try:
        questions = read_questions(path, args.split)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kb = open_kb(_settings(), args.embedder)
    result = evaluate(kb, questions, rerank=not args.no_rerank, details=args.details)
    if not args.json:
        for key, v in result.items():
            if key != "rows":
                print(f"{key:>22}: {v}", file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from kefu.cli import add_data_dir

    kb = sub.add_parser("kb", help="the shop's knowledge base (help-center documents)")
    ksub = kb.add_subparsers(dest="kb_cmd", required=True)
    imp = ksub.add_parser("import", help="import Markdown, HTML, text and FAQ CSV (question,answer) files or "
                                         "folders; re-import updates, a folder's removed files are removed")
    add_data_dir(imp)
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--lang", choices=["en", "zh"], default=None, help="language of the files (default: detected)")
    imp.add_argument("--no-index", action="store_true", help="only store in SQL (the service embeds later)")
    imp.set_defaults(func=_cmd_import)
    ls = ksub.add_parser("list", help="the imported documents, their versions and passage counts")
    add_data_dir(ls)
    ls.set_defaults(func=_cmd_list)
    rm = ksub.add_parser("remove", help="remove documents (by id or source) and their passages")
    add_data_dir(rm)
    rm.add_argument("documents", nargs="+")
    rm.set_defaults(func=_cmd_remove)
    se = ksub.add_parser("search", help="the passages that answer one question")
    add_data_dir(se)
    se.add_argument("question")
    se.add_argument("--lang", choices=["en", "zh"], default=None)
    se.add_argument("--intent", default=None, help="the intent as a hint for the re-ranker")
    se.add_argument("--k", type=int, default=3)
    se.add_argument("--all", action="store_true", help="no no-answer threshold")
    se.add_argument("--embedder", choices=list(EMBEDDERS), default=None)
    se.set_defaults(func=_cmd_search)
    ev = ksub.add_parser("eval", help="hit@1, hit@3, MRR, answer accuracy and latency on a question set")
    add_data_dir(ev)
    ev.add_argument("--questions", required=True, help="CSV question,lang,answer_passage_id|answer_regex[,split]")
    ev.add_argument("--split", default=None, help="only rows of this split (dev, test)")
    ev.add_argument("--json", action="store_true", help="only the JSON line on stdout")
    ev.add_argument("--no-rerank", action="store_true", help="retrieval scores alone (the re-ranker off)")
    ev.add_argument("--embedder", choices=list(EMBEDDERS), default=None,
                    help="default: $KEFU_KB_EMBEDDER, else e5")
    ev.add_argument("--details", action="store_true", help="every question's outcome in the JSON")
    ev.set_defaults(func=_cmd_eval)
