"""`kefu intent train` and `kefu intent eval` (in-process, on files; no server needed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TEXT_FALLBACKS = ("text", "utterance", "sentence", "query")
LABEL_FALLBACKS = ("label", "intent", "category")


def _columns(path: Path) -> list[str]:
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    return list(json.loads(line).keys())
        return []
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh), [])


def _pick(cols: list[str], given: str | None, fallbacks: tuple[str, ...]) -> str:
    """An explicit --*-col wins; otherwise the first familiar column name present."""
    if given:
        return given
    for name in fallbacks:
        if name in cols:
            return name
    return fallbacks[0]


def _cols(args: argparse.Namespace) -> tuple[str, str]:
    cols = _columns(Path(args.data)) if Path(args.data).is_file() else []
    return _pick(cols, args.text_col, TEXT_FALLBACKS), _pick(cols, args.label_col, LABEL_FALLBACKS)


def _cmd_train(args: argparse.Namespace) -> int:
    from kefu.settings import get_settings
    from services.intent import registry
    from services.intent.data import DataError
    from services.intent.train import TrainConfig, train

    settings = get_settings()
    root = registry.intent_root(settings.models_dir)
    out = Path(args.out) if args.out else root / registry.new_version_name()
    text_col, label_col = _cols(args)
    cfg = TrainConfig(seed=args.seed, quick=args.quick, quantize=args.quantize,
                      rerank_budget=args.rerank_budget, oos_label=args.oos_label,
                      oos_reject_rate=args.oos_reject_rate, oos_min_threshold=args.oos_min_threshold,
                      val_frac=args.val_frac, threads=args.threads)
    try:
        meta = train(Path(args.data), out.resolve(), settings.models_dir, text_col, label_col, cfg)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.activate or not args.out:
        registry.set_current(root, out)
        print(f"[intent train] {out} is now the current model", file=sys.stderr)
    summary = {"model": str(out), "version": meta["version"], "tau": meta["tau"], "delta": meta["delta"],
               **{f"val_{k}": v for k, v in meta["metrics"]["validation"].items()},
               "train_seconds": meta["timings"]["total_s"], "quantization": meta["quantization"]}
    print(json.dumps(summary))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from kefu import service_auth
    from kefu.settings import get_settings
    from services.intent import registry
    from services.intent.data import DataError, load
    from services.intent.evaluate import evaluate
    from services.intent.model import IntentModel, LLMReranker

    settings = get_settings()
    try:
        folder = registry.resolve_model_dir(Path(args.model) if args.model
                                            else registry.intent_root(settings.models_dir))
        text_col, label_col = _cols(args)
        ds = load(args.data, text_col, label_col)
    except (FileNotFoundError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reranker = args.reranker or settings.intent_reranker
    llm = (LLMReranker(settings.llm_url, settings.llm_model, settings.http_timeout_s,
                       headers=service_auth.llm_headers(settings), json_mode=settings.llm_json_mode)
           if reranker == "llm" and settings.llm_enabled else None)
    model = IntentModel(folder, settings.models_dir, reranker=reranker, llm=llm)
    report_dir = Path(args.report_dir) if args.report_dir else folder / "reports"
    result = evaluate(model, ds, oos_label=args.oos_label, mode=args.mode, report_dir=report_dir)
    if not args.json:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
        print(f"reports: {report_dir}/intent_report.md, intent_errors.json", file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from kefu.cli import add_data_dir

    intent = subparsers.add_parser("intent", help="train and evaluate the intent cascade")
    add_data_dir(intent)
    sub = intent.add_subparsers(dest="intent_command", required=True)

    tr = sub.add_parser("train", help="train fastText + re-ranker from a CSV/JSONL file")
    add_data_dir(tr)
    tr.add_argument("--data", required=True, help="CSV with a header, or JSONL")
    tr.add_argument("--out", default=None,
                    help="model folder to write (default: a new version under the data dir, made current)")
    tr.add_argument("--text-col", default=None, help="default: text (or utterance)")
    tr.add_argument("--label-col", default=None, help="default: label (or intent, category)")
    tr.add_argument("--quantize", action="store_true", help="store fastText as INT8 .ftz")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--quick", action="store_true", help="smaller hyper-parameter search")
    tr.add_argument("--rerank-budget", type=float, default=0.45,
                    help="largest share of messages the re-ranker may see (τ/δ are tuned within it)")
    tr.add_argument("--oos-label", default=None, help="out-of-scope label (default: auto, e.g. out_of_scope)")
    tr.add_argument("--oos-reject-rate", type=float, default=0.0,
                    help="without OOS examples: share of least-confident validation rows to call OOS")
    tr.add_argument("--oos-min-threshold", type=float, default=0.0,
                    help="call a message out of scope when its two likeliest in-scope labels score under this "
                         "in sum, at least (a floor under the tuned threshold)")
    tr.add_argument("--val-frac", type=float, default=0.1)
    tr.add_argument("--threads", type=int, default=1, help="fastText threads (1 = reproducible)")
    tr.add_argument("--activate", action="store_true", help="also point the data dir's 'current' at --out")
    tr.set_defaults(func=_cmd_train)

    ev = sub.add_parser("eval", help="evaluate a model on a labelled file")
    add_data_dir(ev)
    ev.add_argument("--model", default=None, help="model folder (default: the data dir's current model)")
    ev.add_argument("--data", required=True)
    ev.add_argument("--text-col", default=None)
    ev.add_argument("--label-col", default=None)
    ev.add_argument("--oos-label", default=None, help="report in_scope_accuracy and oos_recall for this label")
    ev.add_argument("--mode", default="cascade", choices=["cascade", "fasttext", "rerank", "embedding"])
    ev.add_argument("--reranker", default=None, choices=["embedding", "llm", "none"],
                    help="default: settings (KEFU_INTENT_RERANKER)")
    ev.add_argument("--report-dir", default=None, help="default: <model>/reports")
    ev.add_argument("--json", action="store_true", help="only the JSON line on stdout")
    ev.set_defaults(func=_cmd_eval)
