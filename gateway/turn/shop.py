"""The act step of a shopping turn: search under the active constraints (and, when nothing fits,
find the nearest relaxation instead of showing unrelated products), read the products a
question is about, or find the products a comparison names.

Every fact the reply states comes from the products read here (catalog fields), never from
the shopper's words.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Any

from gateway.turn.model import TurnFacts
from gateway.turn.tools import Catalog
from gateway.turn.understand.shopping import ShopTurn, filters, query_text, shift_price
from kefu.contracts import SearchFilters
from kefu.vocab import HAN_CLASS, is_zh

SHOWN_K = 5
COUNT_K = 100  # a relaxed search counts what it would show (the catalog's k limit)
RELAXATIONS = 2  # relaxed searches tried when nothing fits, nearest first
RELAX_ORDER = ("color", "size", "material", "material_not", "gender", "brand", "price", "in_stock")
FACET_OF = {"color": "color", "material": "material", "material_not": "material", "gender": "gender"}
NAME_MATCH = 0.75  # share of a name's words a title must have (each word fuzzily) to be that product
WORD_MATCH = 0.8
_WORD = re.compile(rf"[a-z0-9]+|[{HAN_CLASS}]")
# A free-text search (no category, brand or named product) shows its hits only when they are on
# topic: some query word matched (BM25) and that match is strong or the meaning close, or the
# meaning is very close without a shared word. Read off the demo catalog: "rain jacket" BM25 5.5 /
# dense 0.70, "跑鞋" 1.8 / 0.12, "something warm for winter" 2.5 / 0.41 are on topic; "gym
# equipment" 1.9 / 0.36 (earbuds), "mattress" – / 0.45 (pillows), "煤气灶" – / 0.21 (jeans) are not.
# Showing those would tell the shopper we sell what we don't.
ON_TOPIC_BM25 = 3.0
ON_TOPIC_DENSE_WITH_WORD = 0.4
ON_TOPIC_DENSE = 0.55


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def name_score(name: str, p: dict[str, Any]) -> float:
    """How well a product's title (English or Chinese) carries a name's words, typos forgiven."""
    want = _words(name)
    if not want:
        return 0.0
    best = 0.0
    for title in (str(p.get("title") or ""), str((p.get("attributes") or {}).get("title_zh") or "")):
        have = _words(title)
        if not have:
            continue
        hit = sum(1 for t in want if t in have or (len(t) > 3 and difflib.get_close_matches(t, have, 1, WORD_MATCH)))
        best = max(best, hit / len(want))
    return best


async def find_named(catalog: Catalog, names: list[str]) -> tuple[list[str], list[str]]:
    """(product ids, names not found): each name resolved to the search hit whose title carries it."""
    ids, missing = [], []
    for name in names:
        sr = await catalog.search(name)
        scored = [(name_score(name, h.model_dump()), -i, h.id) for i, h in enumerate(sr.hits)]
        best = max(scored, default=None)
        if best is not None and best[0] >= NAME_MATCH and best[2] not in ids:
            ids.append(best[2])
        else:
            missing.append(name)
    return ids, missing


def _drop(search: dict[str, Any], key: str) -> dict[str, Any]:
    out = dict(search)
    for k in ("price_min", "price_max") if key == "price" else (key,):
        out.pop(k, None)
    return out


async def relaxations(catalog: Catalog, search: dict[str, Any], recent: list[str]) -> list[dict[str, Any]]:
    """What dropping one constraint would show, nearest first: the constraint this message set
    goes first (it is the one the shopper is most likely to trade), then the fixed order."""
    keys = [
        k for k in RELAX_ORDER if k in search or (k == "price" and ("price_min" in search or "price_max" in search))
    ]
    recent_keys = ["price" if k.startswith("price_") else k for k in recent]
    keys.sort(key=lambda k: (0 if k in recent_keys else 1, RELAX_ORDER.index(k)))
    out: list[dict[str, Any]] = []
    for key in keys:
        relaxed = _drop(search, key)
        sr = await catalog.search_with(query_text(relaxed), SearchFilters(**filters(relaxed)), COUNT_K)
        if not sr.hits:
            continue
        entry: dict[str, Any] = {
            "drop": key,
            "value": search.get(key)
            if key != "price"
            else {k: search[k] for k in ("price_min", "price_max") if k in search},
            "count": len(sr.hits),
        }
        facet = FACET_OF.get(key)
        if facet:
            values = Counter(str(h.attributes.get(facet) or "").lower() for h in sr.hits if h.attributes.get(facet))
            entry["values"] = values.most_common(3)
        if key == "size":
            entry["values"] = []
        out.append(entry)
        if len(out) >= RELAXATIONS:
            break
    return out


def on_topic(hits: list[dict[str, Any]], zh: bool) -> bool:
    """Whether a free-text search found what was asked for (see ON_TOPIC_*), not its nearest noise."""
    for h in hits:
        sc = h.get("scorers") or {}
        bm25, dense = sc.get("bm25"), float(sc.get("dense") or 0.0)
        if dense >= ON_TOPIC_DENSE:
            return True
        if bm25 is not None and (zh or float(bm25) >= ON_TOPIC_BM25 or dense >= ON_TOPIC_DENSE_WITH_WORD):
            return True
    return False


def _free_text(search: dict[str, Any], query: str) -> bool:
    """Words alone say what is wanted (no category or brand the catalog has was recognised)."""
    return bool(query.strip()) and not any(search.get(k) for k in ("category", "brand"))


async def shop(catalog: Catalog, t: ShopTurn, facts: TurnFacts) -> None:
    info = t.evidence()
    if t.kind == "attribute":
        facts.hits = await catalog.products(t.targets) if t.targets else []
        facts.search_meta = {"referenced": t.targets}
    elif t.kind == "compare":
        ids, missing = (list(t.targets), []) if t.targets else await find_named(catalog, t.names)
        facts.hits = await catalog.products(ids) if ids else []
        info["missing"] = missing
        facts.search_meta = {"referenced": ids}
    else:
        search = dict(t.search)
        if t.shift:
            shown = await catalog.products(t.shown) if t.shown else []
            search = shift_price(search, t.shift, [float(p["price"]) for p in shown if p.get("price") is not None])
            info["changed"] = {**t.changed, **{k: search.get(k) for k in ("price_min", "price_max")}}
        query = query_text(search)
        if t.words and search.get("category"):  # "show me Kestrel jackets": the type is a filter, the rest ranks
            query = f"{query} {t.words}"
        sr = await catalog.search_with(query, SearchFilters(**filters(search)), SHOWN_K)
        facts.hits = [h.model_dump() for h in sr.hits]
        if facts.hits and _free_text(search, sr.query) and not on_topic(facts.hits, is_zh(sr.query)):
            info["off_topic"] = [h["id"] for h in facts.hits]  # evidence: what the index offered
            facts.hits = []
        facts.search_meta = {
            "filters": sr.filters.model_dump(exclude_none=True),
            "query": sr.query,
            "index_version": sr.index_version,
        }
        if not facts.hits and "off_topic" not in info:
            info["relax"] = await relaxations(catalog, search, list(t.changed))
        if sr.filters.brand and not search.get("brand"):
            search["brand"] = sr.filters.brand  # a brand the catalog knows, read by retrieval: "in black" keeps it
        info["search"] = search
    facts.shopping = info
