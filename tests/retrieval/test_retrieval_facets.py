"""Attribute facets (colour, size, material, gender) as search filters over the demo catalog, and
kept in step when a product's attributes change through an API write."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from kefu.contracts import SearchFilters, SearchRequest
from kefu.data import __file__ as data_init
from services.retrieval.catalog import import_file, upsert_products, validate_row
from services.retrieval.engine import RetrievalEngine

DEMO = Path(data_init).parent / "catalog.jsonl"
ROWS = {r["id"]: r for r in (json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line)}


def _hits(eng: RetrievalEngine, query: str, **f) -> list[dict]:
    res = eng.search(SearchRequest(query=query, k=50, filters=SearchFilters(**f)))
    return [ROWS[h.id] for h in res.hits]


def test_facet_filters_hold_on_every_hit(sqlite_settings) -> None:
    import_file(sqlite_settings.sql_url, DEMO, show_progress=False)
    eng = RetrievalEngine(sqlite_settings, verbose=False)
    eng.sync()
    black = _hits(eng, "jackets", color="black", category="jackets")
    assert black and all(r["attributes"]["color"] == "Black" and r["category"] == "jackets" for r in black)
    expected = {pid for pid, r in ROWS.items()
                if r["category"] == "jackets" and r["attributes"].get("color") == "Black"}
    assert {r["id"] for r in black} == expected
    xl = _hits(eng, "jackets", size="XL", gender="women", category="jackets")
    assert xl and all("XL" in r["attributes"]["sizes"] and r["attributes"]["gender"] == "women" for r in xl)
    not_denim = _hits(eng, "jackets", material_not="denim", category="jackets")
    assert not_denim and all("denim" not in r["attributes"]["material"] for r in not_denim)
    fleece = _hits(eng, "jackets", material="fleece")
    assert fleece and all("fleece" in r["attributes"]["material"] for r in fleece)
    assert _hits(eng, "jackets", color="purple") == []

    # an API write that changes only attributes moves the product between facets
    pid = sorted(expected)[0]
    row = dict(ROWS[pid], attributes={**ROWS[pid]["attributes"], "color": "Navy"})
    with Session(eng.engine) as s, s.begin():
        upsert_products(s, [validate_row(row)])
    eng.apply_ids([pid], [])
    after = eng.search(SearchRequest(query="jackets", k=50, filters=SearchFilters(color="black", category="jackets")))
    assert pid not in {h.id for h in after.hits}
    navy = eng.search(SearchRequest(query="jackets", k=50, filters=SearchFilters(color="navy", category="jackets")))
    assert pid in {h.id for h in navy.hits}
