"""FAISS indexes over L2-normalised vectors (inner product = cosine), addressed by integer ids.

Exact search (`IndexIDMap2(IndexFlatIP)`) is the default for small catalogs. Past
`APPROX_THRESHOLD` vectors an approximate index is built: HNSW by default (setting
`approx_index`), or IVF with 8-bit scalar quantisation. Each has its search breadth (efSearch,
nprobe) raised at build time until recall@10 against exact search reaches the target.

FAISS HNSW cannot remove ids, so it is served with tombstones: the vector id (vid) *is* the
HNSW internal id (vectors are appended in vid order, no IDMap), a deleted product's vid is only
marked dead by the caller, and an updated product gets a new vid appended. Dead vectors still
route graph searches but are never returned; the caller rebuilds the index once they pass a
fraction of it. IVF-SQ8 and flat remove ids in place and never have tombstones.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass

import faiss
import numpy as np

# Past ~20k products an exact scan (k=200 candidates) costs more than the query embedding on this
# 2-core box (measured at 51k: flat 9.5 ms vs IVF-SQ8 0.1 ms at recall@10 0.98), so approximate.
APPROX_THRESHOLD = 20_000
RECALL_TARGET = 0.95
APPROX_KINDS = ("hnsw", "ivf_sq8")
HNSW_M = 32  # graph degree: recall@10 0.993 at efSearch 64 on a 200k subset (bench/retrieval/RESULTS.md)
HNSW_EF_CONSTRUCTION = 48  # between FAISS's default 40 and 64; build time grows ~linearly with it
# A filter leaving few products is answered exactly over just those vectors: a graph walk would
# visit ~k/fraction nodes to find k allowed ones, more work than scoring them all.
EXACT_FILTER_MAX = 20_000
EXACT_FILTER_FRACTION = 0.03
HNSW_EF_MIN = 32  # floor for the build-tuned efSearch (see build_hnsw)
HNSW_EF_MAX = 4096  # cap on the efSearch a filtered or tombstoned search raises to


@dataclass
class BuildInfo:
    """Build facts; stored in manifest.json, so new fields need defaults (old manifests load)."""

    kind: str  # "flat" | "ivf_sq8" | "hnsw"
    nlist: int = 0
    nprobe: int = 0
    recall_at_10: float = 1.0
    build_s: float = 0.0
    hnsw_m: int = 0
    ef_construction: int = 0
    ef_search: int = 0


def normalize(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    faiss.normalize_L2(x)
    return x


def new_flat(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def exact_topk(vecs: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ground truth for recall: brute force in blocks (faiss knn, no index kept)."""
    _, idx = faiss.knn(queries, vecs, k, metric=faiss.METRIC_INNER_PRODUCT)
    return idx


def recall_at_k(truth: np.ndarray, got: np.ndarray, k: int = 10) -> float:
    hits = sum(len(set(t[:k]) & set(g[:k])) for t, g in zip(truth, got, strict=True))
    return hits / (len(truth) * k)


def build_ivf(vecs: np.ndarray, ids: np.ndarray, *, nlist: int | None = None,
              recall_target: float = RECALL_TARGET, n_probe_queries: int = 200, seed: int = 0,
              verbose: bool = True) -> tuple[faiss.Index, BuildInfo]:
    t0 = time.perf_counter()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    n, dim = vecs.shape
    # ~sqrt(n) lists (1000 at 1M: training takes minutes, not hours), each trained on >= 39 points
    nlist = nlist or max(1, min(int(math.sqrt(n)), n // 39))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    train = vecs[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
    if verbose:
        print(f"[retrieval] IVF-SQ8: training {nlist} lists on {len(train)} vectors", file=sys.stderr, flush=True)
    index.train(train)
    for start in range(0, n, 100_000):
        index.add_with_ids(vecs[start:start + 100_000], ids[start:start + 100_000])
        if verbose:
            print(f"[retrieval] IVF-SQ8: added {min(start + 100_000, n)}/{n}", file=sys.stderr, flush=True)
    q = probe_queries(vecs, n_probe_queries, rng)
    truth = ids[exact_topk(vecs, q, 10)]
    info = BuildInfo(kind="ivf_sq8", nlist=nlist)
    for nprobe in [p for p in (1, 2, 4, 8, 16, 32, 64, 128, 256) if p < nlist] + [nlist]:
        index.nprobe = nprobe
        _, got = index.search(q, 10)
        info.nprobe, info.recall_at_10 = nprobe, recall_at_k(truth, got)
        if info.recall_at_10 >= recall_target:
            break
    info.build_s = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)
    if verbose:
        print(f"[retrieval] IVF-SQ8: nprobe={info.nprobe} recall@10={info.recall_at_10:.3f} "
              f"({info.build_s:.1f}s)", file=sys.stderr, flush=True)
    return index, info


def probe_queries(vecs: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Stored vectors with noise: their neighbours are other products, not themselves."""
    sample = rng.choice(len(vecs), size=min(len(vecs), n), replace=False)
    return normalize(vecs[sample] + rng.normal(0, 0.05, size=(len(sample), vecs.shape[1])).astype(np.float32))


def build_hnsw(vecs: np.ndarray, ids: np.ndarray, *, m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION,
               recall_target: float = RECALL_TARGET, n_probe_queries: int = 200, seed: int = 0,
               verbose: bool = True, chunk: int = 50_000) -> tuple[faiss.Index, BuildInfo]:
    """HNSW over `vecs`, whose ids must be 0..n-1: the HNSW internal id is the vector id.

    No IDMap: vids stay addressable in the flat storage (exact filtered search reads them
    there) and new vectors are appended at `ntotal`, which the caller uses as the next vid.
    """
    n, dim = vecs.shape
    if not np.array_equal(ids, np.arange(n)):
        raise ValueError("HNSW vector ids must be 0..n-1 in add order")
    t0 = time.perf_counter()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        for start in range(0, n, chunk):
            index.add(np.ascontiguousarray(vecs[start:start + chunk]))
            if verbose:
                el = time.perf_counter() - t0
                done = min(start + chunk, n)
                print(f"[retrieval] HNSW: added {done}/{n} ({el:.0f}s, ~{el / done * (n - done):.0f}s left)",
                      file=sys.stderr, flush=True)
        info = BuildInfo(kind="hnsw", hnsw_m=m, ef_construction=ef_construction)
        q = probe_queries(vecs, n_probe_queries, np.random.default_rng(seed))
        truth = exact_topk(vecs, q, 10)
        faiss.omp_set_num_threads(1)  # measure as the service searches: one thread
        for ef in (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024):
            _, got = index.search(q, 10, params=faiss.SearchParametersHNSW(efSearch=ef))
            if recall_at_k(truth, got) >= recall_target or ef >= n:
                break
        # Probes (stored vectors + noise) sit next to their source and are easier than real
        # queries: at 50k synthetic, ef 8 gave 0.98 on probes, ef 16 only 0.94 on fresh queries.
        # Twice the probe-tuned breadth, at least HNSW_EF_MIN, keeps the target with a margin
        # (search cost ~ linear in ef; the service asks for 200 candidates, so searches at >= 200).
        info.ef_search = min(max(HNSW_EF_MIN, 2 * ef), max(n, 1))
        _, got = index.search(q, 10, params=faiss.SearchParametersHNSW(efSearch=info.ef_search))
        info.recall_at_10 = recall_at_k(truth, got)
        index.hnsw.efSearch = info.ef_search
    finally:
        faiss.omp_set_num_threads(1)
    info.build_s = time.perf_counter() - t0
    if verbose:
        print(f"[retrieval] HNSW: efSearch={info.ef_search} recall@10={info.recall_at_10:.3f} "
              f"({info.build_s:.1f}s)", file=sys.stderr, flush=True)
    return index, info


def build_index(vecs: np.ndarray, ids: np.ndarray, *, approx_threshold: int = APPROX_THRESHOLD,
                approx_index: str = "hnsw", verbose: bool = True) -> tuple[faiss.Index, BuildInfo]:
    t0 = time.perf_counter()
    if len(vecs) >= approx_threshold:
        if approx_index == "hnsw":
            return build_hnsw(vecs, ids, verbose=verbose)
        if approx_index == "ivf_sq8":
            return build_ivf(vecs, ids, verbose=verbose)
        raise ValueError(f"approx_index must be one of {', '.join(APPROX_KINDS)}, not {approx_index!r}")
    index = new_flat(vecs.shape[1] if len(vecs) else 384)
    if len(vecs):
        index.add_with_ids(vecs, ids)
    return index, BuildInfo(kind="flat", build_s=time.perf_counter() - t0)


def selector_for(mask: np.ndarray) -> faiss.IDSelector:
    """Allowed ids as a bitmap over the dense id space (ids are small consecutive ints)."""
    bits = np.packbits(mask.astype(np.uint8), bitorder="little")
    sel = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))  # n is in bytes: ids past the mask -> False
    sel._bits = bits  # keep the buffer alive as long as the selector
    return sel


def hnsw_vectors(index: faiss.IndexHNSW) -> np.ndarray:
    """Zero-copy (ntotal, d) view of the vectors in an HNSW's flat storage, row = vid.

    Valid only while `index` lives and nothing is added (an add may reallocate): take it per
    search, under the engine's read lock.
    """
    storage = faiss.downcast_index(index.storage)
    return faiss.rev_swig_ptr(storage.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)


def _exact_subset(index: faiss.IndexHNSW, q: np.ndarray, k: int, allowed: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k over just the allowed vids, read in place from the HNSW storage.

    FAISS's by-index inner products, not numpy: gathering the rows allocates (page faults) and
    multithreaded BLAS stalls on a busy box; this is 1 ms per 10k vectors on one thread.
    """
    allowed = np.ascontiguousarray(allowed, dtype=np.int64)
    scores = np.empty(len(allowed), np.float32)
    xb = faiss.downcast_index(index.storage).get_xb()
    faiss.fvec_inner_products_by_idx(faiss.swig_ptr(scores), faiss.swig_ptr(q), xb, faiss.swig_ptr(allowed),
                                     index.d, 1, len(allowed))
    k = min(k, len(allowed))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(allowed) else np.arange(len(allowed))
    top = top[np.argsort(-scores[top], kind="stable")]
    return scores[top], allowed[top]


def _fit(m: np.ndarray, n: int) -> np.ndarray:
    """A per-vid bool array sized to the index: vids appended since it was made count as False
    (a search on the previous snapshot can meet vectors a writer just added)."""
    return m[:n] if len(m) >= n else np.concatenate([m, np.zeros(n - len(m), bool)])


def _search_hnsw(index: faiss.IndexHNSW, q: np.ndarray, k: int, mask: np.ndarray | None, ef_search: int,
                 alive: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    n = index.ntotal
    ef = max(ef_search or index.hnsw.efSearch, k)
    if mask is not None:
        mask = _fit(mask, n)
        n_allowed = int(np.count_nonzero(mask))  # 10x cheaper than sum() or flatnonzero() at 1M
        if n_allowed == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if n_allowed <= EXACT_FILTER_MAX or n_allowed < EXACT_FILTER_FRACTION * n:
            return _exact_subset(index, q, k, np.flatnonzero(mask))
        sel = selector_for(mask)
        # Like IVF's nprobe: a walk meets allowed nodes at about their share, so widen it. Half of
        # 1/share suffices (200k synthetic, 10 % and 3 % allowed, k=200: recall@200 0.997 / 0.999
        # vs 0.9998 / 0.9996 at 1/share, for half the time; a quarter fell to 0.974 / 0.985).
        ef = max(ef, int(math.ceil(ef * n / (2 * n_allowed))))
        params = faiss.SearchParametersHNSW(efSearch=min(max(HNSW_EF_MAX, k), ef))
        params.sel = sel
        d, i = index.search(q, k, params=params)
        keep = i[0] >= 0
        return d[0][keep], i[0][keep]
    if alive is not None:
        alive = _fit(alive, n)
    live = int(np.count_nonzero(alive)) if alive is not None else n
    if live == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    kk = k
    if live < n:  # tombstones: over-fetch by the dead share, then drop the dead
        kk = min(n, int(math.ceil(k * n / live)) + 8)
    d, i = index.search(q, kk, params=faiss.SearchParametersHNSW(efSearch=min(max(HNSW_EF_MAX, kk), max(ef, kk))))
    keep = i[0] >= 0
    if live < n:
        keep &= alive[np.clip(i[0], 0, n - 1)]
    d, i = d[0][keep][:k], i[0][keep][:k]
    return d, i


def search(index: faiss.Index, q: np.ndarray, k: int, mask: np.ndarray | None = None,
           nprobe: int = 0, *, ef_search: int = 0, alive: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, vids) for one query. `mask`: allowed vids (already excluding dead ones);
    `alive`: live vids, for an HNSW with tombstones searched without a filter."""
    q = np.ascontiguousarray(q.reshape(1, -1), dtype=np.float32)
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    if isinstance(index, faiss.IndexHNSW):
        return _search_hnsw(index, q, k, mask, ef_search, alive)
    params = None
    sel = selector_for(mask) if mask is not None else None  # held here while faiss uses it
    if isinstance(index, faiss.IndexIVF):
        nprobe = nprobe or index.nprobe
        if mask is not None:
            # A filter keeping a fraction f of products leaves ~f of each probed list usable: probe
            # 1/f times more lists (up to all) so filtered queries keep their recall.
            frac = max(float(mask.mean()), 1e-6)
            nprobe = min(index.nlist, int(math.ceil(nprobe / frac)))
        params = faiss.SearchParametersIVF(nprobe=nprobe)
        if sel is not None:
            params.sel = sel
    elif sel is not None:
        params = faiss.SearchParameters(sel=sel)
    d, i = index.search(q, k, params=params) if params is not None else index.search(q, k)
    keep = i[0] >= 0
    return d[0][keep], i[0][keep]
