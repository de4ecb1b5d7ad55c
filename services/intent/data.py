"""Reading labelled utterances (CSV with a header, or JSONL) and carving a validation split."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

OOS_NAMES = ("out_of_scope", "oos", "out-of-scope", "nlu_fallback", "fallback")


class DataError(ValueError):
    """The training/eval file cannot be used (missing column, empty, unreadable)."""


@dataclass
class Dataset:
    texts: list[str]
    labels: list[str]
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx: list[int]) -> Dataset:
        return Dataset([self.texts[i] for i in idx], [self.labels[i] for i in idx], self.source)

    @property
    def label_set(self) -> list[str]:
        return sorted(set(self.labels))


def load(path: str | Path, text_col: str = "text", label_col: str = "label") -> Dataset:
    """CSV (header row) or JSONL; rows with an empty text or label are skipped."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    texts: list[str] = []
    labels: list[str] = []
    is_jsonl = path.suffix.lower() in {".jsonl", ".ndjson", ".json"}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        if is_jsonl:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{lineno}: not JSON ({exc})") from exc
                if text_col not in row or label_col not in row:
                    raise DataError(f"{path}:{lineno}: needs keys {text_col!r} and {label_col!r}")
                texts.append(str(row[text_col] or ""))
                labels.append(str(row[label_col] or ""))
        else:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            for col in (text_col, label_col):
                if col not in cols:
                    raise DataError(f"{path}: no column {col!r} (columns: {', '.join(cols)})")
            for row in reader:
                texts.append(row[text_col] or "")
                labels.append(row[label_col] or "")
    keep = [i for i, (t, lab) in enumerate(zip(texts, labels, strict=True)) if t.strip() and lab.strip()]
    if not keep:
        raise DataError(f"{path}: no usable rows")
    return Dataset([texts[i] for i in keep], [labels[i].strip() for i in keep], str(path))


def data_hash(ds: Dataset) -> str:
    """sha256 of the (text, label) rows, order-sensitive: identifies what a model was trained on."""
    h = hashlib.sha256()
    for t, lab in zip(ds.texts, ds.labels, strict=True):
        h.update(t.encode("utf-8"))
        h.update(b"\t")
        h.update(lab.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def detect_oos_label(labels: list[str], explicit: str | None = None) -> str | None:
    if explicit:
        return explicit if explicit in set(labels) else None
    present = set(labels)
    for name in OOS_NAMES:
        if name in present:
            return name
    return None


def stratified_split(ds: Dataset, val_frac: float, seed: int) -> tuple[list[int], list[int]]:
    """Per-label split so every intent with ≥ 2 rows has at least one validation row."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, lab in enumerate(ds.labels):
        by_label[lab].append(i)
    train_idx: list[int] = []
    val_idx: list[int] = []
    for lab in sorted(by_label):
        idx = by_label[lab][:]
        rng.shuffle(idx)
        n_val = int(round(len(idx) * val_frac)) if len(idx) >= 2 else 0
        if len(idx) >= 2:
            n_val = min(max(n_val, 1), len(idx) - 1)
        val_idx.extend(idx[:n_val])
        train_idx.extend(idx[n_val:])
    return sorted(train_idx), sorted(val_idx)
