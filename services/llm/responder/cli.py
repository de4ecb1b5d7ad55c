"""`kefu llm train` and `kefu llm eval-responder`, registered by `services/llm/cli.py`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kefu.cli import add_data_dir


def _cmd_train(args: argparse.Namespace) -> int:
    from kefu.settings import get_settings
    from services.llm.responder.train import TrainConfig, default_dir, train

    cfg = TrainConfig.quick(args.seed) if args.quick else TrainConfig(seed=args.seed)
    if args.steps:
        cfg.steps = args.steps
    if args.minutes is not None:
        cfg.minutes = args.minutes
    if args.eval:
        cfg.eval_samples = args.eval
    out = Path(args.out) if args.out else default_dir(get_settings())
    out.parent.mkdir(parents=True, exist_ok=True)
    train(out, cfg)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from kefu.settings import get_settings
    from services.llm.responder.evaluate import evaluate_model, load
    from services.llm.responder.train import default_dir

    folder = Path(args.model) if args.model else default_dir(get_settings())
    if not (folder / "config.json").exists():
        print(f"no model at {folder}; run `kefu llm train` first")
        return 2
    model, tok = load(folder)
    res: dict[str, Any] = evaluate_model(model, tok, n=args.n, seed=args.seed, show=args.show)
    res["model"] = str(folder)
    if args.constrained:
        res["constrained"] = evaluate_model(model, tok, n=args.n, seed=args.seed, constrained=True)
    print(json.dumps(res, ensure_ascii=False) if args.json else json.dumps(res, ensure_ascii=False, indent=2))
    return 0


def register(llm_subparsers: Any) -> None:
    p = llm_subparsers.add_parser("train", help="train the default responder (tiny DeepSeek-V3 MoE) on kefu's corpus")
    add_data_dir(p)
    p.add_argument("--out", default=None, help="output folder (default: <data-dir>/models/llm/kefu-responder)")
    p.add_argument("--steps", type=int, default=None, help="maximum optimizer steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--minutes", type=float, default=None, help="time budget for the training loop (0 = none)")
    p.add_argument("--quick", action="store_true", help="small model, ~1 minute (tests, CI)")
    p.add_argument("--eval", type=int, default=0, help="also evaluate on N held-out contexts and store in meta.json")
    p.set_defaults(func=_cmd_train)

    e = llm_subparsers.add_parser("eval-responder", help="held-out fact-copy / intent-answer evaluation")
    add_data_dir(e)
    e.add_argument("--model", default=None, help="model folder (default: the trained default responder)")
    e.add_argument("--n", type=int, default=200)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--show", type=int, default=0, help="print the first N replies")
    e.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    e.add_argument("--constrained", action="store_true", help="also evaluate with number-copy constrained decoding")
    e.set_defaults(func=_cmd_eval)
