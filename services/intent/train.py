"""Training both stages from one labelled file, with every choice made on a validation split.

1. carve a stratified validation split (seeded) from the training rows;
2. search fastText hyper-parameters on it;
3. fit the re-ranking heads, tune the score mix, the cascade thresholds τ/δ (best accuracy
   within a re-rank-rate budget), a temperature and the out-of-scope threshold;
4. refit the re-ranking heads on all rows (fastText ships as tuned, so τ/δ fit it exactly)
   and write a versioned folder with meta.json (data hash, params, validation metrics, τ, δ,
   created_at).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from services.intent import data as datamod
from services.intent import ft, rerank
from services.intent.encoder import ENCODER_NAME, get_encoder
from services.intent.registry import META


@dataclass
class TrainConfig:
    seed: int = 0
    val_frac: float = 0.1
    quick: bool = False
    quantize: bool = False
    rerank_budget: float = 0.45  # at most this share of messages may go to stage 2
    oos_label: str | None = None  # auto-detected (out_of_scope, oos, …) when None
    oos_reject_rate: float = 0.0  # without OOS examples: share of in-scope val rows to sacrifice
    # Below this confidence a message is out of scope whatever the validation split says: the split
    # is carved from the training data, whose in-scope rows are easier than real shoppers' words.
    oos_min_threshold: float = 0.0  # of the top-2 in-scope mass (`rerank.in_scope_mass`)
    threads: int = 1
    refit: bool = True


# The out-of-scope floor compares the summed probability of this many likeliest in-scope labels.
OOS_MASS_K = 2


def _log(msg: str) -> None:
    print(f"[intent train] {msg}", file=sys.stderr, flush=True)


def _progress(label: str) -> Callable[[int, int], None]:
    last = {"t": 0.0}

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last["t"] > 15.0:
            last["t"] = now
            _log(f"  {label}: {done}/{total}")

    return report


def choose_thresholds(p1: np.ndarray, margin: np.ndarray, ok_ft: np.ndarray, ok_rr: np.ndarray,
                      budget: float) -> dict[str, float]:
    """Grid over τ (quantiles of top-1 prob) × δ; best accuracy with rerank rate ≤ budget.

    Ties go to the lower re-rank rate (cheaper)."""
    taus = sorted({0.0, *np.quantile(p1, np.linspace(0, 1, 41)).round(4).tolist(), 1.01})
    best = {"tau": 0.0, "delta": 0.0, "accuracy": float(ok_ft.mean()), "rerank_rate": 0.0}
    for tau in taus:
        for delta in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5):
            go = (p1 < tau) | (margin < delta)
            rate = float(go.mean())
            if rate > budget + 1e-9:
                continue
            acc = float(np.where(go, ok_rr, ok_ft).mean())
            if acc > best["accuracy"] + 1e-9 or (abs(acc - best["accuracy"]) <= 1e-9
                                                  and rate < best["rerank_rate"]):
                best = {"tau": float(tau), "delta": delta, "accuracy": acc, "rerank_rate": rate}
    return best


def choose_oos_threshold(conf: np.ndarray, pred: np.ndarray, y: np.ndarray, oos_idx: int | None,
                         reject_rate: float) -> float:
    """With OOS examples: the threshold maximising validation accuracy (OOS rows count as right
    when predicted OOS). Without: the confidence quantile rejecting `reject_rate` of rows."""
    if oos_idx is None:
        return float(np.quantile(conf, reject_rate)) if reject_rate > 0 else 0.0
    best_t, best_acc = 0.0, -1.0
    for t in sorted({0.0, *np.quantile(conf, np.linspace(0, 0.5, 51)).round(4).tolist()}):
        final = np.where(conf < t, oos_idx, pred)
        acc = float((final == y).mean())
        if acc > best_acc + 1e-9:
            best_t, best_acc = float(t), acc
    return best_t


@dataclass
class Split:
    """The labelled rows, their label indices and the seeded train/validation split."""

    ds: datamod.Dataset
    labels: list[str]
    y_all: np.ndarray
    oos_label: str | None
    tr_idx: list[int]
    va_idx: list[int]

    @cached_property
    def tr(self) -> datamod.Dataset:
        return self.ds.subset(self.tr_idx)

    @cached_property
    def va(self) -> datamod.Dataset:
        return self.ds.subset(self.va_idx)

    @property
    def y_tr(self) -> np.ndarray:
        return self.y_all[self.tr_idx]

    @property
    def y_va(self) -> np.ndarray:
        return self.y_all[self.va_idx]

    @property
    def oos_idx(self) -> int | None:
        return self.labels.index(self.oos_label) if self.oos_label else None


def load_split(data_path: Path, text_col: str, label_col: str, cfg: TrainConfig) -> Split:
    ds = datamod.load(data_path, text_col, label_col)
    labels = ds.label_set
    if len(labels) < 2:
        raise datamod.DataError(f"{data_path}: need at least two intents, found {len(labels)}")
    lab_idx = {lab: i for i, lab in enumerate(labels)}
    oos_label = datamod.detect_oos_label(ds.labels, cfg.oos_label)
    _log(f"{len(ds)} rows, {len(labels)} intents from {data_path}"
         + (f"; out-of-scope label: {oos_label}" if oos_label else "; no out-of-scope label"))
    tr_idx, va_idx = datamod.stratified_split(ds, cfg.val_frac, cfg.seed)
    split = Split(ds, labels, np.array([lab_idx[lab] for lab in ds.labels]), oos_label, tr_idx, va_idx)
    _log(f"split: {len(tr_idx)} train / {len(va_idx)} validation (seed {cfg.seed})")
    return split


def _accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    return float((proba.argmax(1) == y).mean())


@dataclass
class FastTextFit:
    """Stage 1 as it ships: the searched model (quantized in place with `quantize`) and its
    validation probabilities, which the cascade is tuned on."""

    params: ft.FTParams
    trials: list[dict]
    stage: ft.FastTextStage
    val_proba: np.ndarray
    val_acc: float  # before any quantization
    quantization: dict[str, Any] | None = None


def fit_fasttext(sp: Split, cfg: TrainConfig) -> FastTextFit:
    tr, va = sp.tr, sp.va
    grid = ft.SEARCH_GRID[:1] if cfg.quick else ft.SEARCH_GRID  # quick: the best-guess setting only
    _log(f"fastText: searching {len(grid)} settings on the validation split")
    params, trials, stage = ft.search(tr.texts, tr.labels, va.texts, va.labels, sp.labels, grid,
                                      seed=cfg.seed, threads=cfg.threads, log=_log)
    val_proba = stage.predict_batch(va.texts)
    fit = FastTextFit(params, trials, stage, val_proba, _accuracy(val_proba, sp.y_va))
    _log(f"fastText best {params.as_dict()} → val acc {fit.val_acc:.4f}")
    return fit


def quantize_fasttext(fit: FastTextFit, sp: Split, out_dir: Path) -> None:
    """INT8 in place; the validation probabilities are re-read from the quantized model."""
    tr = sp.tr
    tmp = out_dir.parent / f".{out_dir.name}.qtmp"
    tmp.mkdir(parents=True, exist_ok=True)
    ft.save(fit.stage, tmp / "m.bin")
    ft.quantize(fit.stage, tr.texts, tr.labels)
    ft.save(fit.stage, tmp / "m.ftz")
    fit.val_proba = fit.stage.predict_batch(sp.va.texts)  # the cascade is tuned on the model that ships
    q_acc = _accuracy(fit.val_proba, sp.y_va)
    report: dict[str, Any] = {"bin_bytes": ft.file_size(tmp / "m.bin"), "ftz_bytes": ft.file_size(tmp / "m.ftz"),
                              "val_accuracy_bin": fit.val_acc, "val_accuracy_ftz": q_acc}
    report["size_reduction"] = 1 - report["ftz_bytes"] / max(1, report["bin_bytes"])
    fit.quantization = report
    shutil.rmtree(tmp, ignore_errors=True)
    _log(f"quantized: {report['bin_bytes'] / 1e6:.1f} MB → {report['ftz_bytes'] / 1e6:.2f} MB, "
         f"val acc {fit.val_acc:.4f} → {q_acc:.4f}")


@dataclass
class Reranking:
    """Stage 2 tuned on validation: heads fitted on the training split, the score mix, and a
    temperature that calibrates the mixed scores."""

    heads: rerank.Heads
    mix_a: float
    mix_w: float
    k: int
    temperature: float
    proba: np.ndarray  # calibrated, on validation
    accuracy: float
    emb_acc: float
    tf_acc: float


def best_mix(p_ft: np.ndarray, p_emb: np.ndarray, p_tf: np.ndarray, y: np.ndarray,
             k: int) -> tuple[float, float, float]:
    """(accuracy, a, w) of the best fastText/embedding/TF-IDF mix on a small grid."""
    best = (-1.0, 0.5, 0.1)
    for a in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0):
        for w in (0.0, 0.1, 0.2, 0.3):
            acc = _accuracy(rerank.restrict_top_k(rerank.mix(p_ft, p_emb, p_tf, a, w), p_ft, k), y)
            if acc > best[0] + 1e-9:
                best = (acc, a, w)
    return best


def tune_reranker(sp: Split, emb_all: np.ndarray, p_ft: np.ndarray, cfg: TrainConfig) -> Reranking:
    _log("re-ranker: fitting heads on the training split")
    heads = rerank.fit(sp.tr.texts, sp.y_tr, emb_all[sp.tr_idx], len(sp.labels), seed=cfg.seed, log=_log)
    p_emb = heads.emb_proba(emb_all[sp.va_idx])
    p_tf = heads.tf_proba(sp.va.texts)
    y_va = sp.y_va
    k = min(10, len(sp.labels))
    acc, mix_a, mix_w = best_mix(p_ft, p_emb, p_tf, y_va, k)
    scores = rerank.restrict_top_k(rerank.mix(p_ft, p_emb, p_tf, mix_a, mix_w), p_ft, k)
    temperature = rerank.fit_temperature(scores, y_va)
    rr = Reranking(heads, mix_a, mix_w, k, temperature, rerank.calibrated(scores, temperature), acc,
                   _accuracy(p_emb, y_va), _accuracy(p_tf, y_va))
    _log(f"re-ranker val acc {rr.accuracy:.4f} (embedding head alone {rr.emb_acc:.4f}, TF-IDF head alone "
         f"{rr.tf_acc:.4f}; mix a={mix_a} w={mix_w}, T={temperature:.2f})")
    return rr


@dataclass
class Cascade:
    """When stage 2 runs (τ, δ), when an answer is out of scope, and the validation metrics."""

    thresholds: dict[str, float]
    oos_threshold: float
    metrics: dict[str, Any]


def tune_cascade(sp: Split, fit: FastTextFit, rr: Reranking, cfg: TrainConfig) -> Cascade:
    p_ft, y_va = fit.val_proba, sp.y_va
    sorted_ft = np.sort(p_ft, axis=1)
    p1 = sorted_ft[:, -1]
    margin = p1 - sorted_ft[:, -2]
    th = choose_thresholds(p1, margin, p_ft.argmax(1) == y_va, rr.proba.argmax(1) == y_va, cfg.rerank_budget)
    _log(f"cascade: τ={th['tau']:.4f} δ={th['delta']} → val acc {th['accuracy']:.4f}, "
         f"rerank rate {th['rerank_rate']:.3f} (budget {cfg.rerank_budget})")
    # final predictions on validation through the cascade, for the OOS threshold
    go = (p1 < th["tau"]) | (margin < th["delta"])
    proba = np.where(go[:, None], rr.proba, p_ft)
    pred = proba.argmax(1)
    oos_idx = sp.oos_idx
    conf = rerank.in_scope_mass(proba, oos_idx, OOS_MASS_K)
    oos_threshold = max(choose_oos_threshold(conf, pred, y_va, oos_idx, cfg.oos_reject_rate), cfg.oos_min_threshold)
    final = np.where(conf < oos_threshold, oos_idx if oos_idx is not None else -1, pred)
    metrics = validation_metrics(final, y_va, oos_idx, fit, rr, th["rerank_rate"])
    _log(f"out-of-scope threshold {oos_threshold:.4f}; val cascade accuracy {metrics['cascade_accuracy']:.4f}")
    return Cascade(th, oos_threshold, metrics)


def validation_metrics(final: np.ndarray, y_va: np.ndarray, oos_idx: int | None, fit: FastTextFit,
                       rr: Reranking, rerank_rate: float) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "fasttext_accuracy": fit.val_acc,
        "reranker_accuracy": rr.accuracy,
        "embedding_head_accuracy": rr.emb_acc,
        "tfidf_head_accuracy": rr.tf_acc,
        "cascade_accuracy": float((final == y_va).mean()),
        "rerank_rate": rerank_rate,
        "n": len(y_va),
    }
    if oos_idx is not None:
        ins = y_va != oos_idx
        metrics["in_scope_accuracy"] = float((final[ins] == y_va[ins]).mean()) if ins.any() else 0.0
        metrics["oos_recall"] = float((final[~ins] == oos_idx).mean()) if (~ins).any() else 0.0
    return metrics


def model_meta(out_dir: Path, data_path: Path, text_col: str, label_col: str, cfg: TrainConfig, sp: Split,
               fit: FastTextFit, encoder_variant: str, rr: Reranking, cascade: Cascade) -> dict[str, Any]:
    """meta.json (less timings and sizes): what was trained on, with what, and how it scored."""
    th = cascade.thresholds
    return {
        "version": out_dir.name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {"path": str(data_path), "sha256": datamod.data_hash(sp.ds), "rows": len(sp.ds),
                 "text_col": text_col, "label_col": label_col},
        "labels": sp.labels,
        "fasttext_file": "fasttext.ftz" if cfg.quantize else "fasttext.bin",
        "encoder": {"name": ENCODER_NAME, "variant": encoder_variant},
        "params": {"fasttext": fit.params.as_dict(), "fasttext_trials": fit.trials, "seed": cfg.seed,
                   "val_frac": cfg.val_frac, "quick": cfg.quick, "rerank_budget": cfg.rerank_budget,
                   "reranker": {"c_emb": 20.0, "c_tfidf": 30.0}, "refit_heads_on_all": cfg.refit,
                   "fasttext_trained_on": "training split (validation rows held out)"},
        "cascade": {"tau": th["tau"], "delta": th["delta"], "mix_a": rr.mix_a, "mix_w": rr.mix_w,
                    "rerank_k": rr.k, "temperature": rr.temperature},
        "tau": th["tau"],
        "delta": th["delta"],
        "oos": {"label": sp.oos_label, "threshold": cascade.oos_threshold, "reject_rate": cfg.oos_reject_rate,
                "mass_k": OOS_MASS_K},
        "metrics": {"validation": cascade.metrics},
        "quantization": fit.quantization,
    }


def publish(tmp_dir: Path, out_dir: Path) -> None:
    """Replace `out_dir` by the finished folder in two renames, so a reader never sees half a model."""
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        os.replace(out_dir, old)
        os.replace(tmp_dir, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_dir, out_dir)


def train(data_path: Path, out_dir: Path, models_dir: Path, text_col: str = "text",
          label_col: str = "label", cfg: TrainConfig | None = None) -> dict[str, Any]:
    """Train, write `out_dir` (replaced atomically if it exists) and return its meta."""
    cfg = cfg or TrainConfig()
    t_start = time.perf_counter()
    sp = load_split(data_path, text_col, label_col, cfg)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    fit = fit_fasttext(sp, cfg)
    timings["fasttext_search_s"] = time.perf_counter() - t0
    if cfg.quantize:
        quantize_fasttext(fit, sp, out_dir)

    t0 = time.perf_counter()  # embeddings, computed once for every row
    # Two intra-op threads encode the training set 1.65x faster on the 2-core box (3,000 rows:
    # 39.8 s → 24.2 s, 2026-12-04); serving keeps one (see Encoder).
    encoder = get_encoder(models_dir, "int8", log=_log, threads=min(2, os.cpu_count() or 1))
    _log(f"encoding {len(sp.ds)} messages with {ENCODER_NAME} (ONNX int8)")
    emb_all = encoder.encode(sp.ds.texts, batch_size=64, progress=_progress("encoded"))
    timings["encode_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rr = tune_reranker(sp, emb_all, fit.val_proba, cfg)
    cascade = tune_cascade(sp, fit, rr, cfg)
    timings["rerank_tune_s"] = time.perf_counter() - t0

    # Refit the re-ranking heads on everything. fastText ships as tuned: τ/δ were chosen for
    # exactly that model, and a refit on all rows with the same learning rate was seen to
    # diverge silently on BANKING77 (saturated probabilities, test accuracy 0.89 → 0.78).
    t0 = time.perf_counter()
    heads = rr.heads
    if cfg.refit:
        _log("refitting the re-ranking heads on all rows")
        heads = rerank.fit(sp.ds.texts, sp.y_all, emb_all, len(sp.labels), seed=cfg.seed, log=_log)
    timings["refit_s"] = time.perf_counter() - t0

    meta = model_meta(out_dir, data_path, text_col, label_col, cfg, sp, fit, encoder.variant, rr, cascade)
    tmp_dir = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    ft.save(fit.stage, tmp_dir / meta["fasttext_file"])  # already quantized with cfg.quantize
    heads.save(tmp_dir)
    timings["total_s"] = time.perf_counter() - t_start
    meta["timings"] = {k: round(v, 1) for k, v in timings.items()}
    meta["sizes"] = {f.name: f.stat().st_size for f in tmp_dir.iterdir()}
    (tmp_dir / META).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    publish(tmp_dir, out_dir)
    _log(f"model written to {out_dir} in {timings['total_s']:.1f}s")
    return meta
