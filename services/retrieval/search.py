"""Filtered hybrid search over one snapshot: parse filters out of the query, score with BM25 and
dense cosine (and, opt-in, the product-type scorer), fuse by reciprocal rank, then read the
displayed fields from SQL so a hit never shows stale or deleted data."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine, Row

from kefu import tracing
from kefu.contracts import ProductHit, SearchFilters, SearchRequest, SearchResponse

from . import vectors as V
from .catalog import rows_by_id
from .embed import MODEL_ID, Embeddings
from .query import ParsedQuery, merge_filters, parse_query
from .rwlock import RWLock
from .snapshot import Snapshot
from .text import text_hash, tokenize

# hybrid = BM25 + dense. The category scorer is opt-in: as an equal RRF vote it cost 0.06 nDCG@10
# on WANDS-5k (related categories outvote the text), and weights must not be fitted to that set.
MODES = {"hybrid": ("bm25", "dense"), "hybrid+category": ("bm25", "dense", "category"), "bm25": ("bm25",),
         "dense": ("dense",)}
RRF_K = 60  # the constant from Cormack et al. (2009); not tuned on any benchmark
CANDIDATES = 200  # per scorer, before fusion
MAX_QUERY_TOKENS = 64

Ranked = dict[str, list[tuple[int, float]]]  # scorer -> [(vid, score)], best first


def fuse(ranked: Ranked) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: scale-free, so BM25's unbounded scores and cosines combine
    without weights fitted to any labels."""
    if len(ranked) == 1:
        return list(next(iter(ranked.values())))
    acc: dict[int, float] = {}
    for lst in ranked.values():
        for r, (vid, _) in enumerate(lst):
            acc[vid] = acc.get(vid, 0.0) + 1.0 / (RRF_K + r + 1)
    return sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))


def with_scorers(hits: list[tuple[int, float]], ranked: Ranked) -> list[tuple[int, float, dict[str, float]]]:
    """Each hit with every scorer's own score for it: callers can see why it ranked."""
    lookup = {name: dict(lst) for name, lst in ranked.items()}
    return [(v, s, {n: round(t[v], 6) for n, t in lookup.items() if v in t}) for v, s in hits]


def bm25(snap: Snapshot, toks: list[str], mask: np.ndarray | None) -> list[tuple[int, float]]:
    """The top BM25 candidates among the allowed vids."""
    if not toks or snap.lexical is None:
        return []
    scores = snap.lexical.scores(toks, len(snap.alive))
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    n = min(CANDIDATES, int((scores > 0).sum()))
    if n == 0:
        return []
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top]


def dense(snap: Snapshot, qv: np.ndarray, mask: np.ndarray | None) -> list[tuple[int, float]]:
    """The nearest vectors among the allowed vids; tombstones never come back."""
    d, ids = V.search(snap.index, qv, CANDIDATES, mask, snap.info.nprobe,
                      ef_search=snap.info.ef_search, alive=snap.alive if snap.tombstones else None)
    return [(int(i), float(s)) for i, s in zip(ids, d, strict=True) if i < len(snap.alive) and snap.alive[i]]


def category(snap: Snapshot, qv: np.ndarray, candidates: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Re-rank the other scorers' candidates by how close the query is to each product's
    category name: "coffee table" prefers products filed as tables over table lamps that
    happen to share words. A third opinion for fusion, not a filter."""
    if not candidates:
        return []
    sim = snap.cat_vecs @ qv  # one cosine per category name
    best = np.full(len(snap.alive), -np.inf, dtype=np.float32)
    np.maximum.at(best, snap.cat_vid, sim[snap.cat_code])
    scored = [(v, float(best[v])) for v, _ in candidates if np.isfinite(best[v])]
    scored.sort(key=lambda t: -t[1])  # stable: equal categories keep the fused order
    return scored


def hit(p: Row[Any], score: float, scorers: dict[str, float]) -> ProductHit:
    """A search hit with the product's fields as SQL has them now."""
    return ProductHit(
        id=p.id, title=p.title, price=p.price, currency=p.currency or "USD", category=p.category or "",
        brand=p.brand or "", stock=p.stock or 0, url=p.url or "", image_url=p.image_url or "",
        description=(p.description or "")[:500], attributes=dict(p.attributes or {}),
        score=round(score, 6), scorers=scorers)


class Searcher:
    """Searches whatever snapshot it is handed: the caller decides which one is live."""

    def __init__(self, embeddings: Embeddings, lock: RWLock, sql: Engine) -> None:
        self.embeddings = embeddings
        self.lock = lock  # API writes change the FAISS and BM25 indexes in place
        self.sql = sql

    def search(self, snap: Snapshot, req: SearchRequest, *, hydrate: bool = True,
               mode: str = "hybrid") -> SearchResponse:
        t0 = time.perf_counter()
        pq = parse_query(req.query, snap.vocab) if req.parse_filters else ParsedQuery(req.query, SearchFilters())
        filters = merge_filters(req.filters, pq.filters)
        mask = snap.mask(filters)
        text = pq.text if pq.text.strip() else req.query
        scorers = MODES.get(mode)
        if scorers is None:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        allowed = int(mask.sum()) if mask is not None else len(snap.docs)
        ranked = self._rank(snap, text, mask, scorers) if allowed and snap.docs else {}
        hits_v = fuse(ranked)[: req.k]
        hits = self._hydrate(snap, hits_v, ranked) if hydrate else [
            ProductHit(id=snap.vid_pid[v], title="", score=s, scorers=sc) for v, s, sc in with_scorers(hits_v, ranked)]
        return SearchResponse(hits=hits, filters=filters, query=text, index_version=snap.label,
                              latency_ms=round((time.perf_counter() - t0) * 1000, 3))

    def _rank(self, snap: Snapshot, text: str, mask: np.ndarray | None, scorers: tuple[str, ...]) -> Ranked:
        """Each scorer's candidates; the query is embedded only if a scorer needs it."""
        ranked: Ranked = {}
        qv = None
        if "dense" in scorers or "category" in scorers:
            with tracing.span("retrieval.embed_query"):
                qv = self.embeddings.model.encode_query(text)
        if "dense" in scorers and qv is not None:
            with self.lock.read(), tracing.span("retrieval.dense"):
                ranked["dense"] = dense(snap, qv, mask)
        if "bm25" in scorers and snap.lexical is not None:
            toks = list(dict.fromkeys(tokenize(text)))[:MAX_QUERY_TOKENS]
            with self.lock.read(), tracing.span("retrieval.bm25"):
                ranked["bm25"] = bm25(snap, toks, mask)
        if "category" in scorers and qv is not None:
            self._category_vectors(snap)
            if len(snap.cat_vecs):
                ranked["category"] = category(snap, qv, fuse(ranked))
        return ranked

    def _category_vectors(self, snap: Snapshot) -> None:
        """Embeddings of the category names, for the (opt-in) query-to-product-type scorer;
        computed at the first query that asks, not at every write."""
        names = sorted(snap.cat_codes, key=snap.cat_codes.__getitem__)
        if snap.cat_names == names:
            return
        vecs, _ = self.embeddings.vectors(names, [text_hash(n, MODEL_ID) for n in names], label="category names")
        snap.cat_names, snap.cat_vecs = names, vecs

    def _hydrate(self, snap: Snapshot, hits: list[tuple[int, float]], ranked: Ranked) -> list[ProductHit]:
        pids = [snap.vid_pid[v] or "" for v, _ in hits]  # "" (a tombstone) is in no row: skipped below
        rows = rows_by_id(self.sql, pids)
        out = []
        for (_v, score, scorers), pid in zip(with_scorers(hits, ranked), pids, strict=True):
            p = rows.get(pid)
            if p is not None:  # None: deleted in SQL, index not yet synced: never show a ghost
                out.append(hit(p, score, scorers))
        return out
