"""Scale: 1,000,000 synthetic 384-d product vectors — exact vs the approximate indexes the service serves.

Vectors are a mixture of 20,000 clusters (product families) whose spread lies mostly in a shared
16-d subspace plus small isotropic noise, L2-normalised: structured like sentence embeddings
(low intrinsic dimension) rather than uniform noise, on which no ANN index works. Queries are
fresh draws from the same mixture.

For exact flat (baseline), IVF-SQ8 and HNSW — both built by `services.retrieval.vectors` exactly
as the service builds them (`build_ivf`, `build_hnsw`: search breadth tuned at build to recall@10
>= 0.95) — reports build time, index memory (RSS growth), single-query latency p50/p99 (one
thread, through `vectors.search` as the service searches) and recall against exact search, at
k=10 and at k=200 (the service's CANDIDATES per scorer; recall@10 of its first 10 and recall@200).
Then churn as the service applies it: 1 % of products deleted and 1 % updated (new vectors from
the same mixture). IVF removes and re-adds by id; HNSW tombstones the old vids, appends the new
vectors and searches with the alive filter. Recall and latency again, against exact search over
the live vectors. HNSW is also timed with filters (a random 10 % / 1 % of products allowed).
One JSON object on the last line; progress on stderr.

    nice -n 5 .venv/bin/python bench/retrieval/scale_bench.py [--n 1000000] [--skip flat,ivf_sq8,filters,churn]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from services.retrieval import vectors as V

CANDIDATES = 200  # services/retrieval/search.py asks FAISS for this many per query
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


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


def timed(fn: Callable[[np.ndarray], np.ndarray], q: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    """One query at a time on one thread, as the service searches."""
    faiss.omp_set_num_threads(1)
    got = np.full((len(q), k), -1, dtype=np.int64)
    lat = []
    for i in range(len(q)):
        t0 = time.perf_counter()
        ids = fn(q[i])
        lat.append((time.perf_counter() - t0) * 1000)
        got[i, : len(ids)] = ids[:k]
    return got, lat


def summary(lat: list[float], truth: np.ndarray, got: np.ndarray) -> dict[str, float]:
    out = {"p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3),
           "recall@10": round(V.recall_at_k(truth, got, 10), 4)}
    if got.shape[1] >= CANDIDATES:
        out[f"recall@{CANDIDATES}"] = round(V.recall_at_k(truth, got, CANDIDATES), 4)
    return out


def both_k(search: Callable[[np.ndarray, int], np.ndarray], q: np.ndarray, truth: np.ndarray) -> dict:
    """Latency and recall asking for 10 and for CANDIDATES results."""
    res = {}
    for k in (10, CANDIDATES):
        got, lat = timed(lambda v, k=k: search(v, k), q, k)
        res[f"k{k}"] = summary(lat, truth, got)
    return res


def exact_over(x: np.ndarray, live: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    """Ground truth over the live vids only (vids = row numbers of `x`)."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return live[V.exact_topk(np.ascontiguousarray(x[live]), q, k)]


@dataclass
class Bench:
    """The corpus, the queries, their exact answers, and the churn the indexes are put through."""

    x: np.ndarray
    ids: np.ndarray
    q: np.ndarray
    truth: np.ndarray
    pick: np.ndarray  # first m vids deleted, last m updated
    new_vecs: np.ndarray
    new_ids: np.ndarray
    alive: np.ndarray
    churn_truth: np.ndarray | None  # None: churn skipped

    @property
    def m(self) -> int:
        return len(self.new_ids)

    def sweep(self, name: str, values: tuple[int, ...],
              search: Callable[[np.ndarray, int], np.ndarray]) -> list[dict]:
        """Latency and recall at k=10 for each value of one search parameter."""
        rows = []
        for val in values:
            got, lat = timed(lambda v, val=val: search(v, val), self.q, 10)
            rows.append({name: val, **summary(lat, self.truth, got)})
        return rows


def prepare(args: argparse.Namespace, skip: set[str], out: dict) -> Bench:
    t0 = time.perf_counter()
    x, centers, w = synth(args.n, args.dim, 20_000, 0)
    q = draw(np.random.default_rng(1), centers, w, args.queries)
    ids = np.arange(args.n, dtype=np.int64)
    out["synth_s"] = round(time.perf_counter() - t0, 1)
    log(f"synthesised {args.n} vectors in {out['synth_s']}s")
    t0 = time.perf_counter()
    truth = exact_over(x, ids, q, CANDIDATES)
    out["ground_truth_s"] = round(time.perf_counter() - t0, 1)
    log(f"ground truth (k={CANDIDATES}) in {out['ground_truth_s']}s")

    # Churn as the service sees it: `dead` products deleted, `upd` updated (old vid dead, new vector).
    rng = np.random.default_rng(2)
    m = int(args.n * args.churn)
    pick = rng.choice(args.n, size=2 * m, replace=False)  # first m deleted, last m updated
    new_vecs = draw(np.random.default_rng(3), centers, w, m)
    new_ids = np.arange(args.n, args.n + m, dtype=np.int64)
    alive = np.ones(args.n + m, bool)
    alive[pick] = False
    churn_truth = None
    if "churn" not in skip:
        x_all = np.concatenate([x, new_vecs])
        churn_truth = exact_over(x_all, np.flatnonzero(alive), q, CANDIDATES)
        del x_all
        gc.collect()
        log(f"churn ground truth: {m} deleted, {m} updated")
    return Bench(x, ids, q, truth, pick, new_vecs, new_ids, alive, churn_truth)


def run_flat(b: Bench, dim: int, nq: int) -> dict:
    """The service default below the approximate threshold."""
    m0 = rss_mb()
    t0 = time.perf_counter()
    flat = V.new_flat(dim)
    flat.add_with_ids(b.x, b.ids)
    res = {"build_s": round(time.perf_counter() - t0, 2), "mem_mb": round(rss_mb() - m0)}
    res.update(both_k(lambda v, k: V.search(flat, v, k)[1], b.q[:nq], b.truth[:nq]))
    log(f"flat {res}")
    return res


def run_ivf(b: Bench) -> dict:
    """KEFU_APPROX_INDEX=ivf_sq8."""
    m0 = rss_mb()
    ivf, info = V.build_ivf(b.x, b.ids)
    res = {"build_s": round(info.build_s, 1), "mem_mb": round(rss_mb() - m0), "nlist": info.nlist,
           "nprobe": info.nprobe, "build_probe_recall@10": info.recall_at_10}
    res.update(both_k(lambda v, k: V.search(ivf, v, k)[1], b.q, b.truth))
    res["sweep_k10"] = b.sweep("nprobe", (8, 16, 32, 64), lambda v, p: V.search(ivf, v, 10, nprobe=p)[1])
    log(f"ivf_sq8 {res}")
    if b.churn_truth is not None:
        t0 = time.perf_counter()
        ivf.remove_ids(b.pick.astype(np.int64))
        ivf.add_with_ids(b.new_vecs, b.new_ids)
        res["churn"] = {"deleted": b.m, "updated": b.m, "apply_s": round(time.perf_counter() - t0, 2),
                        **both_k(lambda v, k: V.search(ivf, v, k)[1], b.q, b.churn_truth)}
        log(f"ivf_sq8 churn {res['churn']}")
    return res


def hnsw_filtered(b: Bench, hnsw: faiss.Index, ef: int) -> list[dict]:
    """HNSW with a random 10 % / 1 % of products allowed, on whichever path the service takes."""
    n = len(b.ids)
    filt = []
    for frac in (0.1, 0.01):
        mask = np.random.default_rng(4).random(n) < frac
        allowed = np.flatnonzero(mask)
        ft = exact_over(b.x, allowed, b.q, CANDIDATES)
        path = "exact subset" if len(allowed) <= V.EXACT_FILTER_MAX or \
            len(allowed) < V.EXACT_FILTER_FRACTION * n else "graph + selector"
        r = both_k(lambda v, k, mask=mask: V.search(hnsw, v, k, mask, ef_search=ef)[1], b.q, ft)
        filt.append({"allowed": len(allowed), "path": path, **r})
        log(f"hnsw filter {filt[-1]}")
    return filt


def run_hnsw(b: Bench, filters: bool) -> dict:
    """The default past the approximate threshold."""
    m0 = rss_mb()
    hnsw, info = V.build_hnsw(b.x, b.ids)
    res = {"build_s": round(info.build_s, 1), "mem_mb": round(rss_mb() - m0), "M": info.hnsw_m,
           "ef_construction": info.ef_construction, "ef_search": info.ef_search,
           "build_probe_recall@10": info.recall_at_10}
    ef = info.ef_search
    res.update(both_k(lambda v, k: V.search(hnsw, v, k, ef_search=ef)[1], b.q, b.truth))
    res["sweep_k10"] = b.sweep("efSearch", (16, 32, 64, 128), lambda v, e: V.search(hnsw, v, 10, ef_search=e)[1])
    log(f"hnsw {res}")
    if filters:
        res["filtered"] = hnsw_filtered(b, hnsw, ef)
    if b.churn_truth is not None:
        t0 = time.perf_counter()
        faiss.omp_set_num_threads(1)  # the service appends on its one search thread
        hnsw.add(b.new_vecs)  # appended at ntotal: vids n..n+m-1; old vids of `pick` are tombstones
        assert hnsw.ntotal == len(b.alive)
        alive = b.alive
        res["churn"] = {"deleted": b.m, "updated": b.m, "tombstones": int((~alive).sum()),
                        "apply_s": round(time.perf_counter() - t0, 2),
                        **both_k(lambda v, k: V.search(hnsw, v, k, ef_search=ef, alive=alive)[1], b.q,
                                 b.churn_truth)}
        log(f"hnsw churn {res['churn']}")
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--flat-queries", type=int, default=100, help="exact search is slow at 1M: fewer timed")
    ap.add_argument("--churn", type=float, default=0.01, help="share of products deleted, and again updated")
    ap.add_argument("--skip", default="", help="comma list of: flat, ivf_sq8, hnsw, filters, churn")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    threads = os.cpu_count() or 1
    out: dict = {"n": args.n, "dim": args.dim, "queries": args.queries, "cpus": threads,
                 "date": time.strftime("%Y-%m-%d"), "faiss": faiss.__version__, "candidates": CANDIDATES}
    base = rss_mb()
    b = prepare(args, skip, out)
    if "flat" not in skip:
        out["flat"] = run_flat(b, args.dim, args.flat_queries)
        gc.collect()
    if "ivf_sq8" not in skip:
        out["ivf_sq8"] = run_ivf(b)
        gc.collect()
    if "hnsw" not in skip:
        out["hnsw"] = run_hnsw(b, "filters" not in skip)
        gc.collect()
    out["rss_base_mb"] = round(base)
    out["total_s"] = round(time.perf_counter() - T0)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
