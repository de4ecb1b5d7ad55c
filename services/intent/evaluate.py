"""`kefu intent eval`: accuracy, macro-F1, per-stage figures and per-message latency, plus a
confusion report and an errors file in the spirit of `rasa test nlu`."""

from __future__ import annotations

import json
import time
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from services.intent.data import Dataset
from services.intent.model import IntentModel


def per_intent(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(gold) | set(pred))
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for g, p in zip(gold, pred, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    out = {}
    for lab in labels:
        prec = tp[lab] / (tp[lab] + fp[lab]) if tp[lab] + fp[lab] else 0.0
        rec = tp[lab] / (tp[lab] + fn[lab]) if tp[lab] + fn[lab] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[lab] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
                    "support": tp[lab] + fn[lab]}
    return out


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """Averaged over the intents present in the gold labels (sklearn's convention for labels=gold)."""
    table = per_intent(gold, pred)
    gold_set = sorted(set(gold))
    return float(np.mean([table[lab]["f1"] for lab in gold_set])) if gold_set else 0.0


@dataclass
class _Run:
    """What one pass over the messages saw, message by message."""

    preds: list[str] = field(default_factory=list)
    ft_preds: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    confs: list[float] = field(default_factory=list)


def _classify_each(model: IntentModel, texts: list[str], mode: str, warmup: int) -> _Run:
    for text in texts[:warmup]:
        model.classify(text, mode=mode)
    run = _Run()
    for text in texts:
        t0 = time.perf_counter()
        p = model.classify(text, mode=mode)
        run.latency_ms.append((time.perf_counter() - t0) * 1000)
        run.preds.append(p.intent)
        run.ft_preds.append(p.fasttext_intent)
        run.stages.append(p.stage)
        run.confs.append(p.confidence)
    return run


def _oos_metrics(gold: list[str], preds: list[str], correct: list[bool], oos_label: str,
                 model: IntentModel) -> dict[str, Any]:
    """In-scope accuracy and out-of-scope recall/precision; the model's own OOS label counts too."""
    ins = [i for i, g in enumerate(gold) if g != oos_label]
    oos = [i for i, g in enumerate(gold) if g == oos_label]
    model_oos = {oos_label, model.oos_label or "out_of_scope"}
    n_pred_oos = sum(1 for p in preds if p in model_oos)
    return {
        "in_scope_accuracy": round(float(np.mean([correct[i] for i in ins])), 4) if ins else None,
        "oos_recall": round(float(np.mean([preds[i] in model_oos for i in oos])), 4) if oos else None,
        "oos_precision": (round(sum(1 for i in oos if preds[i] in model_oos) / n_pred_oos, 4)
                          if n_pred_oos else None),
    }


def evaluate(model: IntentModel, ds: Dataset, oos_label: str | None = None, mode: str = "cascade",
             report_dir: Path | None = None, warmup: int = 20) -> dict[str, Any]:
    """One message at a time through the full cascade (that is what a shopper experiences)."""
    run = _classify_each(model, ds.texts, mode, warmup)
    preds, ft_preds, stages, lat, confs = run.preds, run.ft_preds, run.stages, run.latency_ms, run.confs
    gold = ds.labels
    n = len(gold)
    correct = [g == p for g, p in zip(gold, preds, strict=True)]
    result: dict[str, Any] = {
        "n": n,
        "accuracy": round(float(np.mean(correct)), 4),
        "macro_f1": round(macro_f1(gold, preds), 4),
        "fasttext_accuracy": round(float(np.mean([g == p for g, p in zip(gold, ft_preds, strict=True)])), 4),
        "rerank_rate": round(stages.count("rerank") / n, 4),
        "p50_ms": round(float(np.percentile(lat, 50)), 3),
        "p99_ms": round(float(np.percentile(lat, 99)), 3),
        "mean_ms": round(float(np.mean(lat)), 3),
        "mode": mode,
        "reranker": model.reranker,
        "model_version": model.version,
        "tau": model.tau,
        "delta": model.delta,
    }
    rr = [c for c, s in zip(correct, stages, strict=True) if s == "rerank"]
    fo = [c for c, s in zip(correct, stages, strict=True) if s == "fasttext"]
    result["fasttext_stage_accuracy"] = round(float(np.mean(fo)), 4) if fo else None
    result["rerank_stage_accuracy"] = round(float(np.mean(rr)), 4) if rr else None
    unknown = sorted(set(gold) - set(model.labels))
    if unknown:
        result["labels_not_in_model"] = unknown[:20]
    if oos_label:
        result.update(_oos_metrics(gold, preds, correct, oos_label, model))
    if report_dir is not None:
        write_reports(report_dir, ds, preds, ft_preds, stages, confs, result)
        result["report_dir"] = str(report_dir)
    return result


def write_reports(report_dir: Path, ds: Dataset, preds: list[str], ft_preds: list[str], stages: list[str],
                  confs: list[float], result: dict[str, Any]) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    table = per_intent(ds.labels, preds)
    pairs = Tally((g, p) for g, p in zip(ds.labels, preds, strict=True) if g != p)
    report = {
        "summary": result,
        "top_confused_pairs": [{"gold": g, "predicted": p, "count": c} for (g, p), c in pairs.most_common(20)],
        "per_intent": table,
    }
    (report_dir / "intent_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False),
                                                   encoding="utf-8")
    errors = [
        {"text": t, "gold": g, "predicted": p, "confidence": round(c, 4), "stage": s, "fasttext": f}
        for t, g, p, c, s, f in zip(ds.texts, ds.labels, preds, confs, stages, ft_preds, strict=True)
        if g != p
    ]
    (report_dir / "intent_errors.json").write_text(json.dumps(errors, indent=2, ensure_ascii=False),
                                                   encoding="utf-8")
    lines = ["# Intent evaluation", "", f"accuracy {result['accuracy']} · macro-F1 {result['macro_f1']} · "
             f"fastText-only {result['fasttext_accuracy']} · rerank rate {result['rerank_rate']} · "
             f"p50 {result['p50_ms']} ms · p99 {result['p99_ms']} ms · n {result['n']}", "",
             "## Most confused pairs", "", "| gold | predicted | count |", "|---|---|---|"]
    lines += [f"| {g} | {p} | {c} |" for (g, p), c in pairs.most_common(20)]
    lines += ["", "## Per intent", "", "| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for lab, m in sorted(table.items(), key=lambda kv: kv[1]["f1"]):
        lines.append(f"| {lab} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |")
    (report_dir / "intent_report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
