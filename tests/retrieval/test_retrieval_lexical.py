"""The in-place BM25 index scores exactly as bm25s does, through bulk builds, adds, updates and removals."""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest

from services.retrieval.lexical import LexicalIndex

WORDS = [f"w{i}" for i in range(300)]


def _corpus(n: int, seed: int) -> dict[int, list[str]]:
    rng = random.Random(seed)
    return {v: [rng.choice(WORDS[:40]) if rng.random() < 0.5 else rng.choice(WORDS) for _ in range(rng.randint(0, 25))]
            for v in range(n)}


def _bm25s_scores(docs: dict[int, list[str]], query: list[str], size: int) -> np.ndarray:
    vids = sorted(docs)
    bm = bm25s.BM25(k1=1.2, b=0.75)
    bm.index([docs[v] or ["\x00"] for v in vids], show_progress=False)
    got = bm.get_scores(query)
    out = np.zeros(size, np.float32)
    out[vids] = got
    return out


def test_bulk_build_matches_bm25s() -> None:
    docs = _corpus(400, 1)
    idx = LexicalIndex.build(list(docs.items()))
    for q in (["w1"], ["w3", "w250", "w3"], ["nothere"], ["w7", "w39", "w120"]):
        np.testing.assert_allclose(idx.scores(q, 400), _bm25s_scores(docs, list(dict.fromkeys(q)), 400),
                                   rtol=1e-5, atol=1e-6)


def test_adds_updates_and_removals_match_a_fresh_bm25s_index() -> None:
    docs = _corpus(300, 2)
    idx = LexicalIndex.build(list(docs.items()))
    rng = random.Random(3)
    next_vid = 300
    for step in range(200):
        op = rng.random()
        if op < 0.4:  # new product
            docs[next_vid] = [rng.choice(WORDS) for _ in range(rng.randint(1, 20))]
            idx.add(next_vid, docs[next_vid])
            next_vid += 1
        elif op < 0.7 and docs:  # edited text, same vid
            v = rng.choice(sorted(docs))
            docs[v] = [rng.choice(WORDS) for _ in range(rng.randint(0, 20))]
            idx.add(v, docs[v])
        elif docs:  # deleted
            v = rng.choice(sorted(docs))
            del docs[v]
            idx.remove(v)
        if step % 40 == 39:
            for q in (["w1", "w2"], ["w299"], [rng.choice(WORDS) for _ in range(4)]):
                np.testing.assert_allclose(idx.scores(q, next_vid), _bm25s_scores(docs, list(dict.fromkeys(q)),
                                                                                  next_vid), rtol=1e-5, atol=1e-6)
    idx.remove(10_000)  # unknown: nothing happens
    assert len(idx) == len(docs)


def test_empty_index_and_short_score_vector() -> None:
    idx = LexicalIndex()
    assert not idx.scores(["w1"], 5).any()
    idx.add(7, ["w1", "w1", "w2"])
    assert idx.scores(["w1"], 5).shape == (5,) and not idx.scores(["w1"], 5).any()  # vid 7 beyond size
    assert idx.scores(["w1"], 8)[7] > 0


def test_engine_writes_change_bm25_in_place_and_match_a_rebuild(settings, catalog_file) -> None:
    """API writes (add, re-text, delete) reuse the live BM25 index; its scores equal a fresh build's."""
    from sqlalchemy.orm import Session

    from services.retrieval.catalog import delete_product, import_file, upsert_products, validate_row
    from services.retrieval.engine import RetrievalEngine

    import_file(settings.sql_url, catalog_file, show_progress=False)
    eng = RetrievalEngine(settings, verbose=False)
    eng.sync()
    live = eng.snap.lexical
    rows = [{"id": "N1", "title": "Inflatable kayak for two", "category": "Outdoor", "price": 300, "stock": 4},
            {"id": "N2", "title": "Brass desk lamp", "category": "Lighting", "price": 40, "stock": 1}]
    with Session(eng.engine, expire_on_commit=False) as s, s.begin():
        upsert_products(s, [validate_row(r) for r in rows])
    eng.apply_ids(["N1", "N2"], [])
    with Session(eng.engine, expire_on_commit=False) as s, s.begin():
        upsert_products(s, [validate_row({**rows[0], "title": "Camping tent for two"})])
        delete_product(s, "N2")
    eng.apply_ids(["N1"], ["N2"])
    assert eng.snap.lexical is live  # changed in place, not rebuilt
    fresh = LexicalIndex.build(sorted((d.vid, d.tokens) for d in eng.snap.docs.values()))
    size = len(eng.snap.alive)
    for q in (["kayak"], ["camping", "tent"], ["lamp", "brass"], ["two"]):
        np.testing.assert_allclose(live.scores(q, size), fresh.scores(q, size), rtol=1e-6, atol=1e-7)
    assert not live.scores(["kayak"], size).any()
    assert live.scores(["tent"], size)[eng.snap.docs["N1"].vid] > 0


def _columns(snap) -> dict:
    """A snapshot's derived filter state by product, independent of code numbering."""
    cat_name = {c: n for n, c in snap.cat_codes.items()}
    brand_name = {c: n for n, c in snap.brand_codes.items()}
    cats: dict[int, set[str]] = {}
    for v, c in zip(snap.cat_vid.tolist(), snap.cat_code.tolist(), strict=True):
        if snap.alive[v]:
            cats.setdefault(v, set()).add(cat_name[c])
    out = {}
    for pid, d in snap.docs.items():
        v = d.vid
        assert snap.alive[v] and snap.vid_pid[v] == pid
        price = None if np.isnan(snap.price[v]) else float(snap.price[v])
        out[pid] = (price, int(snap.stock[v]), brand_name.get(int(snap.brand[v])), frozenset(cats.get(v, ())))
    assert int(snap.alive.sum()) == len(snap.docs)
    return out


@pytest.mark.parametrize("approx", ["flat", "hnsw"])
def test_incremental_columns_equal_a_full_derive(sqlite_settings, catalog_file, approx: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """API writes fold only their products into the filter columns; the result equals deriving
    everything again, vocabulary included (a category that loses its last product leaves it)."""
    from sqlalchemy.orm import Session

    from services.retrieval.catalog import delete_product, import_file, upsert_products, validate_row
    from services.retrieval.engine import RetrievalEngine, Snapshot

    import_file(sqlite_settings.sql_url, catalog_file, show_progress=False)
    eng = RetrievalEngine(sqlite_settings, verbose=False, approx_threshold=5 if approx == "hnsw" else 10_000)
    eng.sync()
    calls = []
    real = Snapshot.derive_from
    monkeypatch.setattr(Snapshot, "derive_from", lambda self, *a: calls.append(1) or real(self, *a))
    rng = random.Random(7)
    live: set[str] = set(eng.snap.docs)
    cats = ["Outdoor", "Kitchen|Dining", "Lighting > Lamps", "Kayaks"]
    # one Chinese name per category, as a shop's data has it (a name shared by two categories
    # would map to whichever product came first, in either derive)
    ZH = {"Outdoor": "户外用品", "Kitchen|Dining": "厨具", "Lighting > Lamps": "灯具", "Kayaks": "皮划艇"}
    for step in range(40):
        op = rng.random()
        with Session(eng.engine, expire_on_commit=False) as s, s.begin():
            if op < 0.6 or len(live) < 4:
                pid = rng.choice(sorted(live) + [f"Z{step}"])
                row_cat = rng.choice(cats)
                row = {"id": pid, "title": f"{rng.choice(['red', 'blue'])} item {rng.randint(0, 3)}",
                       "category": row_cat, "brand": rng.choice(["", "Acme", "Zeta"]),
                       "price": rng.choice([None, 9.5, 120.0]), "stock": rng.randint(0, 3),
                       "attributes": {"category_zh": rng.choice(["", ZH[row_cat]])}}
                upsert_products(s, [validate_row(row)])
                up, down = [pid], []
                live.add(pid)
            else:
                pid = rng.choice(sorted(live))
                delete_product(s, pid)
                up, down = [], [pid]
                live.discard(pid)
        eng.apply_ids(up, down)
        eng.wait_rebuild(60)
        snap = eng.snap
        ref = Snapshot(version=0, generation=0, index=snap.index, info=snap.info, docs=snap.docs,
                       next_vid=snap.next_vid, watermark="", catalog_count=0, built_at=0, lexical=snap.lexical)
        ref.derive()
        assert _columns(snap) == _columns(ref), f"step {step}"
        assert snap.vocab.cat == ref.vocab.cat and snap.vocab.brand == ref.vocab.brand
        assert snap.vocab.zh_cat == ref.vocab.zh_cat
    assert len(calls) >= 30  # the writes really took the incremental path (rebuilds do not)
