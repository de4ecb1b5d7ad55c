"""The query-embedding cache: same vector as the model, keyed case- and spacing-blind, bounded."""

from __future__ import annotations

import numpy as np

from services.retrieval.embed import QUERY_CACHE, get_embedder


def _count(result: str) -> float:
    return QUERY_CACHE.labels(result)._value.get()


def test_cached_vector_equals_a_fresh_forward_pass() -> None:
    emb = get_embedder(None)
    emb._qcache.clear()
    hits, misses = _count("hit"), _count("miss")
    first = emb.encode_query("Running  Shoes under 100")
    again = emb.encode_query("running shoes UNDER 100 ")
    assert again is first  # served from the cache: spacing and case do not change the key
    assert _count("hit") == hits + 1 and _count("miss") == misses + 1
    size = emb.query_cache_size
    try:
        emb.query_cache_size = 0
        fresh = emb.encode_query("running shoes under 100")
    finally:
        emb.query_cache_size = size
    assert float(np.abs(fresh - first).max()) < 1e-5  # the model really is uncased
    assert not first.flags.writeable  # a caller cannot corrupt the cached vector


def test_cache_is_bounded_and_keeps_recent_queries() -> None:
    emb = get_embedder(None)
    emb._qcache.clear()
    size = emb.query_cache_size
    try:
        emb.query_cache_size = 3
        for q in ("lamp", "sofa", "desk", "lamp", "rug"):  # "lamp" refreshed, so "sofa" is evicted
            emb.encode_query(q)
        assert list(emb._qcache) == ["desk", "lamp", "rug"]
    finally:
        emb.query_cache_size = size
        emb._qcache.clear()
