"""Scale: 1,000,000 synthetic 384-d product vectors — exact vs approximate FAISS indexes.

Vectors are a mixture of 20,000 clusters (product families) whose spread lies mostly in a shared
16-d subspace plus small isotropic noise, L2-normalised: structured like sentence embeddings
(low intrinsic dimension) rather than uniform noise, on which no ANN index works. Queries are
fresh draws from the same mixture. Reports build
time, index memory (RSS growth), single-query latency p50/p99 (one thread, as the service
searches) and recall@10 against exact search. One JSON object on the last line.

    nice -n 10 .venv/bin/python bench/retrieval/scale_bench.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from services.retrieval import vectors as V  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


LATENT = 16  # sentence embeddings have a low intrinsic dimension (~10-20); isotropic noise has 384


def draw(rng: np.random.Generator, centers: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    k = rng.integers(0, len(centers), m)
    z = rng.standard_normal((m, LATENT), dtype=np.float32) @ w
    iso = rng.standard_normal((m, w.shape[1]), dtype=np.float32) / np.sqrt(w.shape[1])
    return V.normalize(centers[k] + 0.6 * z + 0.15 * iso)


def synth(n: int, dim: int, n_clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = V.normalize(rng.standard_normal((n_clusters, dim), dtype=np.float32))
    w = rng.standard_normal((LATENT, dim), dtype=np.float32) / np.sqrt(dim)
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        out[s:s + m] = draw(rng, centers, w, m)
    return out, centers, w


def timed_queries(index: faiss.Index, q: np.ndarray, k: int = 10, **kw) -> tuple[np.ndarray, list[float]]:
    faiss.omp_set_num_threads(1)
    got = np.zeros((len(q), k), dtype=np.int64)
    lat = []
    for i in range(len(q)):
        t0 = time.perf_counter()
        _, ids = V.search(index, q[i], k, **kw) if not isinstance(index, faiss.IndexHNSW) else \
            index.search(q[i:i + 1], k)
        lat.append((time.perf_counter() - t0) * 1000)
        ids = np.asarray(ids).reshape(-1)
        got[i, : len(ids)] = ids
    return got, lat


def summary(lat: list[float], truth: np.ndarray, got: np.ndarray) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3),
            "recall@10": round(V.recall_at_k(truth, got), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--flat-queries", type=int, default=100, help="exact search is slow at 1M: fewer timed")
    ap.add_argument("--hnsw-n", type=int, default=200_000, help="HNSW build is O(n log n) and slow here")
    args = ap.parse_args()
    threads = os.cpu_count() or 1
    out: dict = {"n": args.n, "dim": args.dim, "queries": args.queries, "cpus": threads,
                 "date": time.strftime("%Y-%m-%d")}
    base = rss_mb()
    t0 = time.perf_counter()
    x, centers, w = synth(args.n, args.dim, 20_000, 0)
    q = draw(np.random.default_rng(1), centers, w, args.queries)
    ids = np.arange(args.n, dtype=np.int64)
    out["synth_s"] = round(time.perf_counter() - t0, 1)
    print(f"synthesised {args.n} vectors in {out['synth_s']}s", file=sys.stderr, flush=True)
    faiss.omp_set_num_threads(threads)
    t0 = time.perf_counter()
    truth = V.exact_topk(x, q, 10)
    out["ground_truth_s"] = round(time.perf_counter() - t0, 1)
    print(f"ground truth in {out['ground_truth_s']}s", file=sys.stderr, flush=True)

    # Exact: the service default below the approximate threshold.
    m0 = rss_mb()
    t0 = time.perf_counter()
    flat = V.new_flat(args.dim)
    flat.add_with_ids(x, ids)
    res = {"build_s": round(time.perf_counter() - t0, 2), "mem_mb": round(rss_mb() - m0)}
    got, lat = timed_queries(flat, q[: args.flat_queries])
    res.update(summary(lat, truth[: args.flat_queries], got))
    out["flat"] = res
    print("flat", res, file=sys.stderr, flush=True)
    del flat
    gc.collect()

    # IVF-SQ8: what the service builds past its threshold (nprobe tuned at build to recall>=0.95).
    m0 = rss_mb()
    ivf, info = V.build_ivf(x, ids)
    res = {"build_s": round(info.build_s, 1), "mem_mb": round(rss_mb() - m0), "nlist": info.nlist,
           "nprobe": info.nprobe, "build_probe_recall@10": info.recall_at_10}
    got, lat = timed_queries(ivf, q)
    res.update(summary(lat, truth, got))
    sweep = []
    for nprobe in (8, 16, 32, 64):
        got, lat = timed_queries(ivf, q, nprobe=nprobe)
        sweep.append({"nprobe": nprobe, **summary(lat, truth, got)})
    res["sweep"] = sweep
    out["ivf_sq8"] = res
    print("ivf_sq8", res, file=sys.stderr, flush=True)
    del ivf
    gc.collect()

    # HNSW (no remove-by-id in FAISS, so the service does not use it) on a subset, for reference.
    n_h = min(args.hnsw_n, args.n)
    faiss.omp_set_num_threads(threads)
    m0 = rss_mb()
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(args.dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 64
    hnsw.add(x[:n_h])
    res = {"n": n_h, "build_s": round(time.perf_counter() - t0, 1), "mem_mb": round(rss_mb() - m0), "M": 32}
    faiss.omp_set_num_threads(threads)
    truth_h = V.exact_topk(x[:n_h], q, 10)
    sweep = []
    for ef in (32, 64, 128):
        hnsw.hnsw.efSearch = ef
        got, lat = timed_queries(hnsw, q)
        sweep.append({"efSearch": ef, **summary(lat, truth_h, got)})
    res["sweep"] = sweep
    out["hnsw_subset"] = res
    print("hnsw", res, file=sys.stderr, flush=True)
    out["rss_base_mb"] = round(base)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
