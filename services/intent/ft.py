"""Stage 1: the fastText pre-screen (supervised, word n-grams, subword n-grams).

Answers in tens of microseconds; its full label distribution also feeds the re-ranker's
score combination, so `predict_all` returns every label's probability.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from services.intent.text import ft_line

LABEL_PREFIX = "__label__"


@dataclass(frozen=True)
class FTParams:
    lr: float = 1.0
    epoch: int = 50
    wordNgrams: int = 2  # fastText's own name
    minn: int = 2
    maxn: int = 5
    dim: int = 100
    bucket: int = 200_000
    loss: str = "softmax"

    def as_dict(self) -> dict:
        return asdict(self)


# Candidate settings for the validation search, best-guess first; `quick` uses the first only.
# (On BANKING77 a lower learning rate with more epochs wins: 88.4 % vs 86 % at lr 1.0.)
SEARCH_GRID: tuple[FTParams, ...] = (
    FTParams(lr=0.5, epoch=50, wordNgrams=2, minn=3, maxn=5),
    FTParams(lr=0.2, epoch=100, wordNgrams=1, minn=3, maxn=5),
    FTParams(lr=0.2, epoch=100, wordNgrams=2, minn=2, maxn=5),
    FTParams(lr=0.5, epoch=50, wordNgrams=1, minn=2, maxn=5),
    FTParams(lr=0.3, epoch=80, wordNgrams=2, minn=3, maxn=6),
)


def _encode_label(label: str) -> str:
    return LABEL_PREFIX + label.replace(" ", "_")


def write_train_file(texts: list[str], labels: list[str], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for t, lab in zip(texts, labels, strict=True):
            fh.write(f"{_encode_label(lab)} {ft_line(t)}\n")


class FastTextStage:
    """A trained fastText model plus the map back to the original label names."""

    def __init__(self, model, labels: list[str]) -> None:  # fasttext has no types
        self.model = model
        # fastText orders labels by frequency; we keep our own canonical (sorted) order.
        self.labels = labels

    @classmethod
    def load(cls, path: Path, labels: list[str]) -> FastTextStage:
        import fasttext

        fasttext.FastText.eprint = lambda *a, **k: None  # silence the deprecation banner
        return cls(fasttext.load_model(str(path)), labels)

    def predict_all(self, text: str) -> np.ndarray:
        """Probability of every label (canonical order) for one message."""
        return self.predict_line(ft_line(text))

    def predict_line(self, line: str) -> np.ndarray:
        labs, probs = self.model.predict(line, k=-1, threshold=0.0)
        out = np.zeros(len(self.labels), dtype=np.float32)
        # predict returns labels as strings; map through the label index
        idx = self._label_index()
        for lab, p in zip(labs, probs, strict=True):
            out[idx[lab]] = p
        return out

    def predict_batch(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.predict_all(t) for t in texts]) if texts else np.zeros((0, len(self.labels)))

    def _label_index(self) -> dict[str, int]:
        idx = getattr(self, "_idx", None)
        if idx is None:
            idx = {_encode_label(lab): i for i, lab in enumerate(self.labels)}
            self._idx = idx
        return idx


def train(
    texts: list[str],
    labels: list[str],
    params: FTParams,
    label_set: list[str],
    seed: int = 0,
    threads: int = 1,
) -> FastTextStage:
    """Single-threaded by default: fastText's Hogwild updates are only reproducible on one thread."""
    import fasttext

    fasttext.FastText.eprint = lambda *a, **k: None
    with tempfile.TemporaryDirectory(prefix="kefu-ft-") as tmp:
        path = Path(tmp) / "train.txt"
        write_train_file(texts, labels, path)
        lr = params.lr
        for attempt in range(4):
            try:
                model = _fit(fasttext, path, params, lr, seed, threads)
                break
            except RuntimeError as exc:  # "Encountered NaN": the learning rate diverged
                if "NaN" not in str(exc) or attempt == 3:
                    raise
                lr /= 2
    return FastTextStage(model, label_set)


def _fit(fasttext, path: Path, params: FTParams, lr: float, seed: int, threads: int):
    return fasttext.train_supervised(
        input=str(path),
        lr=lr,
        epoch=params.epoch,
        wordNgrams=params.wordNgrams,
        minn=params.minn,
        maxn=params.maxn,
        dim=params.dim,
        bucket=params.bucket,
        loss=params.loss,
        thread=threads,
        seed=seed,
        verbose=0,
    )


def accuracy(stage: FastTextStage, texts: list[str], labels: list[str]) -> float:
    idx = {lab: i for i, lab in enumerate(stage.labels)}
    probs = stage.predict_batch(texts)
    gold = np.array([idx.get(lab, -1) for lab in labels])
    return float((probs.argmax(1) == gold).mean()) if len(gold) else 0.0


def search(
    train_texts: list[str],
    train_labels: list[str],
    val_texts: list[str],
    val_labels: list[str],
    label_set: list[str],
    grid: tuple[FTParams, ...] = SEARCH_GRID,
    seed: int = 0,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> tuple[FTParams, list[dict], FastTextStage]:
    """Try each candidate on the validation split; ties go to the earlier one. The winning model
    is returned too, so it need not be trained again for the cascade tuning."""
    trials: list[dict] = []
    best: tuple[float, FTParams, FastTextStage] | None = None
    for i, params in enumerate(grid, 1):
        t0 = time.perf_counter()
        stage = train(train_texts, train_labels, params, label_set, seed=seed, threads=threads)
        acc = accuracy(stage, val_texts, val_labels)
        secs = time.perf_counter() - t0
        trials.append({"params": params.as_dict(), "val_accuracy": round(acc, 4), "seconds": round(secs, 1)})
        log(f"  fastText trial {i}/{len(grid)}: {params.as_dict()} → val acc {acc:.4f} ({secs:.1f}s)")
        if best is None or acc > best[0] + 1e-9:
            best = (acc, params, stage)
    assert best is not None
    return best[1], trials, best[2]


def save(stage: FastTextStage, path: Path) -> None:
    stage.model.save_model(str(path))


def quantize(stage: FastTextStage, train_texts: list[str], train_labels: list[str]) -> None:
    """INT8 product quantization in place (fastText's `quantize`, no vocabulary cut-off)."""
    with tempfile.TemporaryDirectory(prefix="kefu-ftq-") as tmp:
        path = Path(tmp) / "train.txt"
        write_train_file(train_texts, train_labels, path)
        stage.model.quantize(input=str(path), qnorm=True, retrain=False, cutoff=0)


def file_size(path: Path) -> int:
    return os.path.getsize(path) if path.exists() else 0
