"""vectors.py on its own (no catalog, no model): HNSW build, filters, tombstones."""

from __future__ import annotations

import numpy as np

from services.retrieval import vectors as V


def _data(n: int = 3000, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((30, dim)).astype(np.float32)
    x = V.normalize(centers[rng.integers(0, 30, n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32))
    q = V.normalize(centers[rng.integers(0, 30, 50)] + 0.3 * rng.standard_normal((50, dim)).astype(np.float32))
    return x, q


def test_build_hnsw_tunes_ef_search_and_keeps_vid_order() -> None:
    x, q = _data()
    index, info = V.build_hnsw(x, np.arange(len(x)), verbose=False)
    assert info.kind == "hnsw" and info.recall_at_10 >= V.RECALL_TARGET and index.hnsw.efSearch == info.ef_search
    assert np.array_equal(V.hnsw_vectors(index), x)  # row = vid: the flat storage is in add order
    got = np.stack([np.pad(V.search(index, qq, 10, ef_search=info.ef_search)[1], (0, 10))[:10] for qq in q])
    assert V.recall_at_k(V.exact_topk(x, q, 10), got) >= 0.9


def test_filtered_and_tombstoned_searches() -> None:
    x, q = _data()
    index, info = V.build_hnsw(x, np.arange(len(x)), verbose=False)
    rng = np.random.default_rng(1)
    for frac in (0.01, 0.5):  # exact over the allowed few / graph walk with a selector
        mask = rng.random(len(x)) < frac
        allowed = np.flatnonzero(mask)
        for qq in q[:10]:
            d, i = V.search(index, qq, 20, mask, ef_search=info.ef_search)
            assert mask[i].all() and len(i) == min(20, len(allowed))
            assert np.all(np.diff(d) <= 1e-6)  # best first
        d, i = V.search(index, q[0], 5, mask)
        truth = allowed[V.exact_topk(x[allowed], q[:1], 5)[0]]
        assert np.allclose(d, x[truth] @ q[0], atol=1e-4) or frac > 0.1
    alive = np.ones(len(x), bool)
    alive[rng.choice(len(x), 600, replace=False)] = False
    for qq in q[:10]:
        _, i = V.search(index, qq, 50, alive=alive)
        assert len(i) == 50 and alive[i].all()
    # A mask made before vectors were appended: the new ones are simply not allowed.
    short = np.ones(len(x) - 100, bool)
    _, i = V.search(index, x[-1], 10, short)
    assert (i < len(short)).all()
    _, i = V.search(index, x[-1], 10, alive=short)
    assert (i < len(short)).all() and len(i) == 10
    assert len(V.search(index, q[0], 10, np.zeros(len(x), bool))[1]) == 0


def test_build_hnsw_needs_dense_ids() -> None:
    x, _ = _data(100)
    try:
        V.build_hnsw(x, np.arange(100) + 5, verbose=False)
    except ValueError:
        return
    raise AssertionError("sparse ids must be refused")
