"""Intent benchmark: fastText-only vs embedding-only vs always-rerank vs cascade on one test set,
plus fastText .bin vs INT8 .ftz, model sizes and memory. Prints one JSON object.

    python bench/intent/bench_intent.py --model DIR --train TRAIN.csv --test TEST.csv \
        [--text-col text] [--label-col category] [--dedupe]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil

from services.intent import ft
from services.intent.data import Dataset, load
from services.intent.evaluate import evaluate
from services.intent.model import IntentModel


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def dedupe(test: Dataset, train: Dataset) -> tuple[Dataset, int]:
    """Drop test rows whose (normalised) text also occurs in train."""
    seen = {" ".join(t.lower().split()) for t in train.texts}
    keep = [i for i, t in enumerate(test.texts) if " ".join(t.lower().split()) not in seen]
    return test.subset(keep), len(test) - len(keep)


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--models-dir", default=None, help="where the ONNX encoder cache lives (default: model/../..)")
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--text-col", default="text")
    ap.add_argument("--label-col", default="category")
    ap.add_argument("--dedupe", action="store_true")
    ap.add_argument("--modes", default="fasttext,embedding,cascade,rerank")
    ap.add_argument("--no-ftz", action="store_true")
    return ap.parse_args()


def load_model(folder: Path, models_dir: Path, out: dict) -> IntentModel:
    """Load the model, recording load time, memory, training metadata and sizes."""
    rss0 = rss_mb()
    t0 = time.perf_counter()
    model = IntentModel(folder, models_dir)
    out["load_s"] = round(time.perf_counter() - t0, 2)
    out["rss_model_mb"] = round(rss_mb() - rss0, 1)
    meta = model.meta
    out["train"] = {"timings_s": meta["timings"], "val": meta["metrics"]["validation"],
                    "fasttext_params": meta["params"]["fasttext"], "tau": meta["tau"], "delta": meta["delta"]}
    out["sizes_bytes"] = {"model_folder": folder_size(folder), **meta["sizes"]}
    enc_dir = models_dir / "encoders" / "all-minilm-l6-v2"
    if enc_dir.is_dir():
        out["sizes_bytes"]["encoder_int8_onnx"] = (enc_dir / "model.int8.onnx").stat().st_size
    return model


def ftz_comparison(model: IntentModel, folder: Path, models_dir: Path, train: Dataset, test: Dataset,
                   fasttext_accuracy_bin: float | None) -> dict:
    """Quantise a copy of the fastText stage to .ftz and evaluate fastText-only and the cascade on it."""
    with tempfile.TemporaryDirectory(prefix="kefu-ftz-") as tmp:
        qdir = Path(tmp) / folder.name
        shutil.copytree(folder, qdir)
        stage = ft.FastTextStage.load(qdir / "fasttext.bin", model.labels)
        t0 = time.perf_counter()
        ft.quantize(stage, train.texts, train.labels)
        ft.save(stage, qdir / "fasttext.ftz")
        qsecs = time.perf_counter() - t0
        (qdir / "fasttext.bin").unlink()
        qmeta = dict(model.meta, fasttext_file="fasttext.ftz")
        (qdir / "meta.json").write_text(json.dumps(qmeta))
        qmodel = IntentModel(qdir, models_dir)
        qres = {m: evaluate(qmodel, test, mode=m) for m in ("fasttext", "cascade")}
        bin_size = (folder / "fasttext.bin").stat().st_size
        ftz_size = (qdir / "fasttext.ftz").stat().st_size
        return {
            "bin_bytes": bin_size, "ftz_bytes": ftz_size,
            "size_reduction": round(1 - ftz_size / bin_size, 4), "quantize_s": round(qsecs, 1),
            "fasttext_accuracy_bin": fasttext_accuracy_bin,
            "fasttext_accuracy_ftz": qres["fasttext"]["accuracy"],
            "cascade_accuracy_ftz": qres["cascade"]["accuracy"],
            "cascade_rerank_rate_ftz": qres["cascade"]["rerank_rate"],
            "cascade_p50_ms_ftz": qres["cascade"]["p50_ms"], "cascade_p99_ms_ftz": qres["cascade"]["p99_ms"],
        }


def main() -> None:
    args = parse_args()
    folder = Path(args.model).resolve()
    models_dir = Path(args.models_dir) if args.models_dir else folder.parent.parent
    train = load(args.train, args.text_col, args.label_col)
    test = load(args.test, args.text_col, args.label_col)
    out: dict = {"machine": f"{os.cpu_count()}-core CPU (shared)", "date": time.strftime("%Y-%m-%d"),
                 "test_file": args.test, "n_test_raw": len(test)}
    if args.dedupe:
        test, removed = dedupe(test, train)
        out["test_rows_removed_as_in_train"] = removed
    out["n_test"] = len(test)

    model = load_model(folder, models_dir, out)
    out["modes"] = {}
    for mode in args.modes.split(","):
        res = evaluate(model, test, mode=mode)
        out["modes"][mode] = {k: res[k] for k in ("accuracy", "macro_f1", "rerank_rate", "p50_ms", "p99_ms",
                                                  "mean_ms")}
        print(f"[bench] {mode}: {out['modes'][mode]}", file=sys.stderr, flush=True)
    out["rss_after_eval_mb"] = round(rss_mb(), 1)

    if not args.no_ftz and model.meta["fasttext_file"].endswith(".bin"):
        out["ftz"] = ftz_comparison(model, folder, models_dir, train, test,
                                    out["modes"].get("fasttext", {}).get("accuracy"))
    print(json.dumps(out))


if __name__ == "__main__":
    csv.field_size_limit(10**7)
    main()
