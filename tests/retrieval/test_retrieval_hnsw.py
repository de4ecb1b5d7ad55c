"""HNSW served with tombstones: SQL and index stay in step without remove_ids; filters; rebuilds; reload."""

from __future__ import annotations

from pathlib import Path

import faiss
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.contracts import SearchFilters, SearchRequest
from kefu.db import Product, get_engine
from services.retrieval import engine as E
from services.retrieval import vectors as V
from services.retrieval.catalog import delete_product, import_file, upsert_products, validate_row
from services.retrieval.engine import RetrievalEngine

THRESHOLD = 20  # HNSW from 20 products: the 11-product fixture catalog + fillers below

FILLERS = [{"id": f"G{i:02d}", "title": f"{adj} {noun}", "category": cat, "price": 10.0 + 7 * i, "stock": i % 3}
           for i, (adj, noun, cat) in enumerate(
               (a, n, c) for c, nouns in (("Garden", ("rake", "hose", "planter", "shovel")),
                                          ("Toys", ("puzzle", "kite", "yo-yo", "robot")),
                                          ("Office", ("stapler", "notebook", "desk organiser", "pen set")))
               for n in nouns for a in ("Red", "Large", "Wooden"))]


def _hnsw_engine(settings, catalog_file: Path) -> RetrievalEngine:
    import_file(settings.sql_url, catalog_file, show_progress=False)
    with Session(get_engine(settings.sql_url), expire_on_commit=False) as s, s.begin():
        upsert_products(s, [validate_row(p) for p in FILLERS])
    eng = RetrievalEngine(settings, verbose=False, approx_threshold=THRESHOLD)
    eng.sync()
    return eng


def _upsert(eng: RetrievalEngine, *rows: dict) -> dict:
    with Session(eng.engine, expire_on_commit=False) as s, s.begin():
        upsert_products(s, [validate_row(r) for r in rows])
    return eng.apply_ids([r["id"] for r in rows], [])


def _delete(eng: RetrievalEngine, *pids: str) -> dict:
    with Session(eng.engine) as s, s.begin():
        for pid in pids:
            assert delete_product(s, pid)
    return eng.apply_ids([], list(pids))


def _in_step(eng: RetrievalEngine) -> None:
    snap = eng.snap
    with Session(eng.engine) as s:
        sql_ids = set(s.scalars(select(Product.id)))
    assert set(snap.docs) == sql_ids
    assert snap.info.kind == "hnsw" and snap.next_vid == snap.index.ntotal  # vid == HNSW position
    assert snap.index.ntotal == len(sql_ids) + snap.tombstones
    assert int(snap.alive.sum()) == len(sql_ids)
    assert len({d.vid for d in snap.docs.values()}) == len(sql_ids)
    st = eng.status()
    assert st["index_kind"] == "hnsw" and st["index_tombstones"] == snap.tombstones
    assert st["lag_products"] == 0 and st["index_size"] == len(sql_ids)


def ids(eng: RetrievalEngine, query: str, k: int = 5, **kw) -> list[str]:
    return [h.id for h in eng.search(SearchRequest(query=query, k=k, **kw)).hits]


def dense_score(eng: RetrievalEngine, query: str, pid: str) -> float | None:
    res = eng.search(SearchRequest(query=query, k=100, parse_filters=False), mode="dense")
    return next((h.scorers["dense"] for h in res.hits if h.id == pid), None)


def test_updates_and_deletes_leave_tombstones_then_rebuild(settings, catalog_file: Path) -> None:
    eng = _hnsw_engine(settings, catalog_file)
    info = eng.snap.info
    assert info.kind == "hnsw" and info.ef_search > 0 and info.recall_at_10 >= 0.95 and info.hnsw_m == V.HNSW_M
    assert eng.snap.tombstones == 0
    _in_step(eng)

    kayak = {"id": "N1", "title": "Inflatable kayak for two", "category": "Outdoor", "price": 300, "stock": 4}
    stats = _upsert(eng, kayak)
    assert stats["added"] == 1 and eng.snap.tombstones == 0
    assert ids(eng, "inflatable kayak", k=1) == ["N1"]
    old_vid, old_score = eng.snap.docs["N1"].vid, dense_score(eng, "Inflatable kayak for two", "N1")
    assert old_vid == eng.snap.index.ntotal - 1

    stats = _upsert(eng, {**kayak, "title": "Camping tent"})
    assert stats["updated"] == 1 and stats["embedded"] == 1 and stats["tombstones"] == 1
    new_vid = eng.snap.docs["N1"].vid
    assert new_vid == eng.snap.index.ntotal - 1 and new_vid != old_vid and not eng.snap.alive[old_vid]
    assert ids(eng, "camping tent", k=1) == ["N1"]
    # The kayak vector is still in the graph but dead: N1 now scores by its tent vector only.
    new_score = dense_score(eng, "Inflatable kayak for two", "N1")
    assert new_score is None or new_score < old_score - 0.1
    qv = eng.embedder.encode_query("Inflatable kayak for two")
    if new_score is not None:
        assert abs(new_score - float(V.hnsw_vectors(eng.snap.index)[new_vid] @ qv)) < 1e-4
    _in_step(eng)

    stats = _upsert(eng, {**kayak, "title": "Camping tent", "price": 250})  # price only: same vector, same vid
    assert stats["embedded"] == 0 and eng.snap.docs["N1"].vid == new_vid and eng.snap.tombstones == 1
    assert ids(eng, "camping tent under 260", k=1) == ["N1"]

    _delete(eng, "N1")
    assert eng.snap.tombstones == 2
    for mode in ("dense", "hybrid"):
        res = eng.search(SearchRequest(query="camping tent", k=100, parse_filters=False), mode=mode)
        assert "N1" not in {h.id for h in res.hits}
    _in_step(eng)

    # Past TOMBSTONE_REBUILD_FRACTION dead vectors an API write starts a rebuild; it swaps in.
    limit = E.TOMBSTONE_REBUILD_FRACTION * eng.snap.index.ntotal
    gone = [p["id"] for p in FILLERS[: int(limit) - eng.snap.tombstones + 1]]
    stats = _delete(eng, *gone)
    assert stats.get("rebuild") == "started"
    eng.wait_rebuild(120)
    assert eng.snap.tombstones == 0 and eng.snap.index.ntotal == len(eng.snap.docs)
    assert eng.snap.info.kind == "hnsw" and eng.current_version() == eng.snap.version
    assert not set(gone) & set(ids(eng, "red rake large hose wooden planter", k=50, parse_filters=False))
    assert ids(eng, "brass desk lamp", k=1) == ["L1"]
    _in_step(eng)


def test_sync_rebuilds_when_outside_deletes_leave_too_many_tombstones(sqlite_settings, catalog_file: Path) -> None:
    eng = _hnsw_engine(sqlite_settings, catalog_file)
    with Session(eng.engine) as s, s.begin():  # a few edits through the API, the rest behind its back
        for p in FILLERS[:3]:
            delete_product(s, p["id"])
    eng.apply_ids([], [p["id"] for p in FILLERS[:3]])
    assert 0 < eng.snap.tombstones <= E.TOMBSTONE_REBUILD_FRACTION * eng.snap.index.ntotal
    with Session(eng.engine) as s, s.begin():
        for p in FILLERS[3:12]:
            delete_product(s, p["id"])
    stats = eng.sync()
    assert stats["rebuilt"] and stats["tombstones"] == 0 and stats["removed"] == 9
    _in_step(eng)


@pytest.mark.parametrize("path", ["exact_subset", "graph"])
def test_filtered_search_returns_only_allowed(sqlite_settings, catalog_file: Path, path: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    if path == "graph":  # small catalogs always take the exact-subset path; force the graph walk
        monkeypatch.setattr(V, "EXACT_FILTER_MAX", 0)
        monkeypatch.setattr(V, "EXACT_FILTER_FRACTION", 0.0)
    eng = _hnsw_engine(sqlite_settings, catalog_file)
    _delete(eng, "S3")  # a tombstone inside the filter: never returned
    _upsert(eng, {"id": "S4", "title": "Canvas sneakers", "category": "Shoes", "price": 40, "stock": 5})

    def dense(q: str, **f) -> list:
        return eng.search(SearchRequest(query=q, k=50, parse_filters=False, filters=SearchFilters(**f)),
                          mode="dense").hits

    hits = dense("running shoes", price_max=100, category="Shoes")
    assert {h.id for h in hits} == {"S1", "S4"}  # every allowed product (k > allowed), nothing else
    hits = dense("something for the garden", price_min=100)
    with Session(eng.engine) as s:
        want = set(s.scalars(select(Product.id).where(Product.price >= 100)))
    assert {h.id for h in hits} == want and all(h.price >= 100 for h in hits)
    hits = dense("kite", category="Toys", in_stock=True)
    assert hits and all(h.category == "Toys" and h.stock > 0 for h in hits)
    assert dense("sofa", category="Sofas", price_min=5000) == []


def test_save_and_load_keep_ef_search_and_vids(settings, catalog_file: Path) -> None:
    eng = _hnsw_engine(settings, catalog_file)
    _upsert(eng, {"id": "K1", "title": "Ceramic tea pot", "category": "Kitchen", "price": 12.0, "stock": 40})
    _delete(eng, "H2")
    eng.save()
    ef, vids = eng.snap.info.ef_search, {p: d.vid for p, d in eng.snap.docs.items()}
    eng2 = RetrievalEngine(settings, verbose=False, approx_threshold=THRESHOLD)
    assert eng2.load()
    index = eng2.snap.index
    assert isinstance(index, faiss.IndexHNSW) and index.hnsw.efSearch == ef == eng2.snap.info.ef_search
    assert eng2.snap.next_vid == index.ntotal and {p: d.vid for p, d in eng2.snap.docs.items()} == vids
    stats = eng2.sync()
    assert stats["embedded"] == 0 and stats["changed"] == 0 and eng2.snap.tombstones == 2
    assert ids(eng2, "tea pot", k=1) == ["K1"] and "H2" not in ids(eng2, "wired earbuds", k=50)
    _in_step(eng2)


def test_old_manifest_build_info_still_loads() -> None:
    info = V.BuildInfo(**{"kind": "ivf_sq8", "nlist": 226, "nprobe": 2, "recall_at_10": 0.98, "build_s": 3.1})
    assert info.ef_search == 0 and info.hnsw_m == 0


def test_ivf_sq8_stays_available(sqlite_settings, catalog_file: Path) -> None:
    import_file(sqlite_settings.sql_url, catalog_file, show_progress=False)
    eng = RetrievalEngine(sqlite_settings, verbose=False, approx_threshold=5, approx_index="ivf_sq8")
    assert eng.sync()["index_kind"] == "ivf_sq8"
    eng.approx_index = "hnsw"  # the setting changed: the next sync rebuilds as HNSW
    assert eng.sync()["index_kind"] == "hnsw" and eng.snap.index.ntotal == 11
    with pytest.raises(ValueError, match="approx_index"):
        RetrievalEngine(sqlite_settings, verbose=False, approx_index="lsh")


def test_writes_during_a_background_rebuild_do_not_wait_and_are_kept(sqlite_settings, catalog_file: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A tombstone rebuild builds aside without the write lock (minutes at 1M); writes made meanwhile
    answer at once and are replayed onto the new index before it is swapped in."""
    import threading
    import time

    eng = _hnsw_engine(sqlite_settings, catalog_file)
    building, release = threading.Event(), threading.Event()
    real_build = V.build_index

    def slow_build(*a, **kw):
        building.set()
        assert release.wait(60)
        return real_build(*a, **kw)

    monkeypatch.setattr(V, "build_index", slow_build)
    limit = E.TOMBSTONE_REBUILD_FRACTION * eng.snap.index.ntotal
    assert _delete(eng, *[p["id"] for p in FILLERS[: int(limit) + 1]]).get("rebuild") == "started"
    assert building.wait(30)
    t0 = time.monotonic()
    _upsert(eng, {"id": "W1", "title": "Folding kayak paddle", "category": "Outdoor", "price": 45, "stock": 2})
    _upsert(eng, {"id": "L1", "title": "Brass desk lamp with dimmer", "category": "Lighting", "price": 60,
                  "stock": 5})
    _delete(eng, "G23")
    assert time.monotonic() - t0 < 10  # the writes did not wait for the build
    assert ids(eng, "kayak paddle", k=1) == ["W1"]  # and the live index served them at once
    release.set()
    eng.wait_rebuild(120)
    # the replayed re-text of L1 and delete of G23 are the new index's only tombstones
    assert eng.snap.tombstones == 2 and eng.snap.index.ntotal == len(eng.snap.docs) + 2
    assert ids(eng, "kayak paddle", k=1) == ["W1"] and "G23" not in eng.snap.docs
    assert eng.search(SearchRequest(query="dimmer lamp", k=1)).hits[0].price == 60
    _in_step(eng)
