"""`kefu catalog …`, `kefu index …`, `kefu retrieval …` — in-process on the data dir's SQL + index."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _settings():
    from kefu.settings import get_settings

    return get_settings()


def _cmd_import(args: argparse.Namespace) -> int:
    from .catalog import RowError, import_file

    path = Path(args.file)
    if not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    try:
        report = import_file(_settings().sql_url, path, batch_size=args.batch_size)
    except RowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for rej in report.rejected[:50]:
        print(f"  rejected row {rej['row']} (id={rej['id']}): {rej['reason']}", file=sys.stderr)
    if len(report.rejected) > 50:
        print(f"  … and {len(report.rejected) - 50} more rejected rows", file=sys.stderr)
    summary = report.as_dict()
    if not args.json:
        summary.pop("rejections")
    print(f"imported {path.name}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
          f"{len(report.rejected)} rejected", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    if args.index:
        return _cmd_build(argparse.Namespace(full=False))
    return 1 if (args.strict and report.rejected) else 0


def _cmd_delete(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from kefu.db import get_engine

    from .catalog import delete_product

    n = 0
    with Session(get_engine(_settings().sql_url)) as s, s.begin():
        for pid in args.ids:
            n += delete_product(s, pid)
    print(json.dumps({"deleted": n, "missing": len(args.ids) - n}))
    return 0 if n == len(args.ids) else 1


def _cmd_build(args: argparse.Namespace) -> int:
    from .engine import RetrievalEngine

    eng = RetrievalEngine(_settings())
    stats = eng.sync(full=args.full)
    print(json.dumps(stats))
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from .engine import RetrievalEngine

    eng = RetrievalEngine(_settings(), verbose=False)
    eng.load()
    print(json.dumps(eng.status(), default=str))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .engine import RetrievalEngine
    from .evaluate import evaluate, read_qrels, read_queries

    eng = RetrievalEngine(_settings(), query_encoder=args.query_encoder)
    result = evaluate(eng, read_queries(Path(args.queries)), read_qrels(Path(args.qrels)), k=args.k,
                      mode=args.mode, parse_filters=not args.no_parse_filters)
    if not args.json:
        for key, v in result.items():
            print(f"{key:>14}: {v}")
    print(json.dumps(result))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from kefu.contracts import SearchRequest

    from .engine import RetrievalEngine

    eng = RetrievalEngine(_settings(), verbose=False)
    eng.ensure_ready()
    res = eng.search(SearchRequest(query=args.query, k=args.k), mode=args.mode)
    print(res.model_dump_json(indent=2, exclude={"hits": {"__all__": {"description", "attributes"}}}))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from kefu.cli import add_data_dir

    from .kb.cli import register as register_kb

    register_kb(sub)

    catalog = sub.add_parser("catalog", help="the product catalog in SQL")
    csub = catalog.add_subparsers(dest="catalog_cmd", required=True)
    imp = csub.add_parser("import", help="import products from CSV or JSONL (upsert by id)")
    add_data_dir(imp)
    imp.add_argument("--file", required=True, help="CSV (header: id,title,…) or JSONL")
    imp.add_argument("--batch-size", type=int, default=1000, help="rows per transaction")
    imp.add_argument("--json", action="store_true", help="include every rejected row in the JSON summary")
    imp.add_argument("--strict", action="store_true", help="exit 1 if any row was rejected")
    imp.add_argument("--index", action="store_true", help="update the search index afterwards")
    imp.set_defaults(func=_cmd_import)
    dl = csub.add_parser("delete", help="delete products by id")
    add_data_dir(dl)
    dl.add_argument("ids", nargs="+")
    dl.set_defaults(func=_cmd_delete)

    index = sub.add_parser("index", help="the FAISS + BM25 search index")
    isub = index.add_subparsers(dest="index_cmd", required=True)
    b = isub.add_parser("build", help="bring the index in step with the catalog (incremental)")
    add_data_dir(b)
    b.add_argument("--full", action="store_true", help="rebuild from scratch instead of incrementally")
    b.set_defaults(func=_cmd_build)
    st = isub.add_parser("status", help="index version, size and lag behind the catalog")
    add_data_dir(st)
    st.set_defaults(func=_cmd_status)

    ret = sub.add_parser("retrieval", help="product search: evaluate, query")
    rsub = ret.add_subparsers(dest="retrieval_cmd", required=True)
    ev = rsub.add_parser("eval", help="nDCG@10, recall@100, MRR@10, latency on judged queries")
    add_data_dir(ev)
    ev.add_argument("--queries", required=True, help="CSV query_id,text")
    ev.add_argument("--qrels", required=True, help="CSV query_id,product_id,grade")
    ev.add_argument("--k", type=int, default=10)
    ev.add_argument("--json", action="store_true", help="only the JSON line on stdout")
    ev.add_argument("--mode", choices=["hybrid", "hybrid+category", "bm25", "dense"], default="hybrid",
                    help="hybrid = BM25 + dense fused by RRF; +category adds the product-type scorer")
    ev.add_argument("--no-parse-filters", action="store_true", help="do not read filters from query text")
    ev.add_argument("--query-encoder", choices=["fp32", "int8"], default=None,
                    help="query embedding model (default: $KEFU_QUERY_ENCODER, else fp32)")
    ev.set_defaults(func=_cmd_eval)
    se = rsub.add_parser("search", help="run one query and print the hits")
    add_data_dir(se)
    se.add_argument("query")
    se.add_argument("--k", type=int, default=10)
    se.add_argument("--mode", choices=["hybrid", "hybrid+category", "bm25", "dense"], default="hybrid",
                    help="hybrid = BM25 + dense fused by RRF; +category adds the product-type scorer")
    se.set_defaults(func=_cmd_search)
