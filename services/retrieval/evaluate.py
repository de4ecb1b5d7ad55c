"""Offline relevance evaluation: nDCG@k, recall@100, MRR@k and per-query latency.

Gains are the graded judgements as given (linear gain, as trec_eval's ndcg); the ideal ranking
is built from every judged product of the query. Latency is the whole search call, one query at
a time, including the query's embedding, filter parsing, both scorers and fusion; not the SQL
read of display fields for the hits (`kefu retrieval bench` style figures for the HTTP path
are in bench/retrieval).
"""

from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from kefu.contracts import SearchRequest

from .engine import RetrievalEngine


def read_queries(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"query_id", "text"} <= set(rows[0]):
        raise ValueError(f"{path}: expected columns query_id,text")
    return [(r["query_id"], r["text"]) for r in rows if (r.get("text") or "").strip()]


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames and not {"query_id", "product_id", "grade"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected columns query_id,product_id,grade")
        for r in reader:
            out.setdefault(r["query_id"], {})[r["product_id"]] = float(r["grade"])
    return out


def ndcg(ranked: list[str], rels: dict[str, float], k: int) -> float:
    dcg = sum(rels.get(pid, 0.0) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall(ranked: list[str], rels: dict[str, float], k: int) -> float:
    relevant = {p for p, g in rels.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr(ranked: list[str], rels: dict[str, float], k: int) -> float:
    for i, pid in enumerate(ranked[:k]):
        if rels.get(pid, 0.0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(engine: RetrievalEngine, queries: list[tuple[str, str]], qrels: dict[str, dict[str, float]],
             *, k: int = 10, mode: str = "hybrid", parse_filters: bool = True,
             progress: bool = True) -> dict[str, Any]:
    engine.ensure_ready()
    engine.embedder.query_cache_size = 0  # latency must include every query's embedding
    depth = max(100, k)
    judged = [(qid, text) for qid, text in queries if any(g > 0 for g in qrels.get(qid, {}).values())]
    engine.search(SearchRequest(query="warm up", k=depth), hydrate=True, mode=mode)  # first-call costs
    nd, rc, rr, lat, nd10, rr10 = [], [], [], [], [], []
    for n, (qid, text) in enumerate(judged, 1):
        t0 = time.perf_counter()
        res = engine.search(SearchRequest(query=text, k=depth, parse_filters=parse_filters), mode=mode,
                            hydrate=False)
        lat.append((time.perf_counter() - t0) * 1000)
        ranked = [h.id for h in res.hits]
        rels = qrels[qid]
        nd.append(ndcg(ranked, rels, k))
        rc.append(recall(ranked, rels, 100))
        rr.append(mrr(ranked, rels, k))
        nd10.append(ndcg(ranked, rels, 10))
        rr10.append(mrr(ranked, rels, 10))
        if progress and (n % 50 == 0 or n == len(judged)):
            print(f"[retrieval eval] {n}/{len(judged)} queries, nDCG@{k} so far {np.mean(nd):.4f}",
                  file=sys.stderr, flush=True)
    lat_a = np.array(lat) if lat else np.zeros(1)

    def mean(x: list[float]) -> float:
        return round(float(np.mean(x)), 4) if x else 0.0

    return {
        "n": len(judged), "k": k, "mode": mode, "parse_filters": parse_filters,
        "ndcg@10": mean(nd10), "recall@100": mean(rc), "mrr@10": mean(rr10),
        f"ndcg@{k}": mean(nd), f"mrr@{k}": mean(rr),
        "p50_ms": round(float(np.percentile(lat_a, 50)), 3),
        "p99_ms": round(float(np.percentile(lat_a, 99)), 3),
        "index_version": engine.snap.label if engine.snap else None,
        "index_size": len(engine.snap.docs) if engine.snap else 0,
        "embedder": engine.embedder.backend, "query_encoder": engine.embedder.query_encoder,
    }
