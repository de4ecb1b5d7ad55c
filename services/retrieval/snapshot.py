"""What searches read: one immutable-by-reference `Snapshot` of the FAISS index, the BM25 index
and the per-product filter columns, all keyed by a dense integer vector id (vid).

The columns are numpy arrays indexed by vid so a filter is a few vectorised comparisons, not a
pass over Python objects; an API write folds only its own products into them (`derive_from`)."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kefu.contracts import SearchFilters

from . import vectors as V
from .embed import DIM
from .lexical import LexicalIndex
from .query import Vocabulary, category_parts, phrase_key


@dataclass
class Doc:
    """What the engine keeps per indexed product (display fields come from SQL at query time)."""

    pid: str
    vid: int
    hash: str
    tokens: list[str]
    price: float | None
    stock: int
    category: str
    brand: str
    category_zh: str = ""
    color: str = ""  # lower case, as `attributes` has them: the facets a search refines by
    material: str = ""
    gender: str = ""
    sizes: tuple[str, ...] = ()


def _low(v: Any) -> str:
    return str(v).strip().lower() if isinstance(v, str | int | float) else ""


def doc_from(p: dict[str, Any], vid: int, h: str, tokens: list[str]) -> Doc:
    """A catalog row (as `catalog.product_rows` reads it) as the engine keeps it."""
    return Doc(pid=p["id"], vid=vid, hash=h, tokens=tokens, price=p.get("price"), stock=int(p.get("stock") or 0),
               category=p.get("category") or "", brand=p.get("brand") or "",
               category_zh=str((p.get("attributes") or {}).get("category_zh") or ""), **facets(p.get("attributes")))


def facets(attrs: Any) -> dict[str, Any]:
    """The attribute facets of a product (colour, material, gender, sizes), normalised for filters."""
    a = attrs if isinstance(attrs, dict) else {}
    raw = a.get("sizes")
    sizes: list[Any] = raw if isinstance(raw, list) else ([a["size"]] if a.get("size") else [])
    return {"color": _low(a.get("color") or a.get("colour")), "material": _low(a.get("material")),
            "gender": _low(a.get("gender")), "sizes": tuple(x for x in (_low(v) for v in sizes) if x)}


def _names(d: Doc) -> tuple[list[str], list[tuple[str, str]]]:
    """A product's category parts and its (written, canonical) category names."""
    parts = category_parts(d.category)
    cats = [(part, part) for part in parts]
    if d.category_zh and parts:
        cats.append((d.category_zh, parts[0]))
    return parts, cats


FACETS = ("color", "material", "gender", "size")


@dataclass
class Snapshot:
    version: int
    generation: int  # live changes applied since `version` was saved
    index: Any  # faiss.Index
    info: V.BuildInfo
    docs: dict[str, Doc]
    next_vid: int
    watermark: str  # catalog max(updated_at) this snapshot reflects
    catalog_count: int
    built_at: float
    # loaded from disk: documents carry only vid and text hash, so the next sync re-reads them all
    tokens_missing: bool = False
    # derived, for search
    vid_pid: list[str | None] = field(default_factory=list)
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stock: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cat_vid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (vid, code) pairs: a
    cat_code: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # product may have several
    brand: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # attribute facets: one code per vid (-1: none) for colour, material, gender; sizes as pairs
    color: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    material: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    gender: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    size_vid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    size_code: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    facet_codes: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in FACETS})
    cat_codes: dict[str, int] = field(default_factory=dict)
    brand_codes: dict[str, int] = field(default_factory=dict)
    cat_family: dict[str, list[int]] = field(default_factory=dict)
    # products carrying each (category name as written, canonical name) and each brand name:
    # what the vocabulary is built from
    cat_names_n: Counter = field(default_factory=Counter)
    brand_names_n: Counter = field(default_factory=Counter)
    # BM25 over the same vids; changed in place (under the engine's write lock) by API writes
    lexical: LexicalIndex | None = None
    vocab: Vocabulary | None = None
    cat_names: list[str] = field(default_factory=list)
    cat_vecs: np.ndarray = field(default_factory=lambda: np.zeros((0, DIM), np.float32))

    @property
    def tombstones(self) -> int:
        """Dead vectors still in the index (HNSW only; flat and IVF remove ids in place)."""
        return int(self.index.ntotal) - len(self.docs)

    @property
    def label(self) -> str:
        """The saved version plus live changes since: what responses and /readyz report."""
        return f"v{self.version}" + (f"+{self.generation}" if self.generation else "")

    def in_place(self, docs: dict[str, Doc], next_vid: int, lexical: LexicalIndex | None) -> Snapshot:
        """The next snapshot over this one's (just changed) index: same version, new documents."""
        return Snapshot(version=self.version, generation=self.generation, index=self.index, info=self.info,
                        docs=docs, next_vid=next_vid, watermark=self.watermark,
                        catalog_count=self.catalog_count, built_at=time.time(), lexical=lexical)

    def _code(self, facet: str, value: str) -> int:
        codes = self.facet_codes[facet]
        return codes.setdefault(value, len(codes)) if value else -1

    def _set_facets(self, d: Doc, size_vid: list[int], size_code: list[int]) -> None:
        self.color[d.vid] = self._code("color", d.color)
        self.material[d.vid] = self._code("material", d.material)
        self.gender[d.vid] = self._code("gender", d.gender)
        for sz in d.sizes:
            size_vid.append(d.vid)
            size_code.append(self._code("size", sz))

    def _set(self, d: Doc, pair_vid: list[int], pair_code: list[int]) -> None:
        self.vid_pid[d.vid] = d.pid
        self.alive[d.vid] = True
        self.price[d.vid] = np.nan if d.price is None else d.price
        self.stock[d.vid] = d.stock
        parts, cats = _names(d)
        for part in parts:
            pair_vid.append(d.vid)
            pair_code.append(self.cat_codes.setdefault(part.lower(), len(self.cat_codes)))
        self.cat_names_n.update(cats)
        if d.brand:
            self.brand[d.vid] = self.brand_codes.setdefault(d.brand.lower(), len(self.brand_codes))
            self.brand_names_n[d.brand] += 1

    def _clear(self, d: Doc) -> None:
        self.vid_pid[d.vid] = None
        self.alive[d.vid], self.price[d.vid], self.stock[d.vid], self.brand[d.vid] = False, np.nan, 0, -1
        self.color[d.vid] = self.material[d.vid] = self.gender[d.vid] = -1
        self.cat_names_n.subtract(_names(d)[1])
        if d.brand:
            self.brand_names_n[d.brand] -= 1

    def _vocabulary(self) -> None:
        cats: dict[str, str] = {}
        for (name, canonical), n in self.cat_names_n.items():
            if n > 0:
                cats.setdefault(name, canonical)
        self.vocab = Vocabulary(cats, {name: name for name, n in self.brand_names_n.items() if n > 0})
        # A category filter also takes its kinds: "Beds" matches "Kids Beds" (same head noun).
        keys = {name: phrase_key(name) for name in self.cat_codes}
        self.cat_family = {name: [self.cat_codes[o] for o, ok in keys.items()
                                  if kk and ok[-len(kk):] == kk] for name, kk in keys.items()}

    def _names_in_use(self) -> tuple[set[tuple[str, str]], set[str], int]:
        """What the vocabulary depends on: if a write leaves this unchanged, it is kept."""
        return ({k for k, v in self.cat_names_n.items() if v > 0},
                {k for k, v in self.brand_names_n.items() if v > 0}, len(self.cat_codes))

    def derive(self) -> None:
        """Filter columns, vocabulary and (if not carried over) BM25, from all documents."""
        n = self.next_vid
        self.vid_pid = [None] * n
        self.alive = np.zeros(n, bool)
        self.price = np.full(n, np.nan)
        self.stock = np.zeros(n, np.int64)
        self.brand = np.full(n, -1, np.int32)
        self.color, self.material, self.gender = (np.full(n, -1, np.int32) for _ in range(3))
        self.cat_names_n, self.brand_names_n = Counter(), Counter()
        pair_vid: list[int] = []
        pair_code: list[int] = []
        size_vid: list[int] = []
        size_code: list[int] = []
        for d in self.docs.values():
            self._set(d, pair_vid, pair_code)
            self._set_facets(d, size_vid, size_code)
        self.cat_vid = np.array(pair_vid, dtype=np.int64)
        self.cat_code = np.array(pair_code, dtype=np.int32)
        self.size_vid = np.array(size_vid, dtype=np.int64)
        self.size_code = np.array(size_code, dtype=np.int32)
        self._vocabulary()
        if self.lexical is None:  # a fresh snapshot; an in-place change brings its updated index
            self.lexical = LexicalIndex.build(sorted((d.vid, d.tokens) for d in self.docs.values()))

    def _extend_from(self, prev: Snapshot) -> None:
        """`prev`'s columns, copied and grown to this snapshot's vid range."""
        grow = self.next_vid - len(prev.alive)

        def ext(a: np.ndarray, fill: Any) -> np.ndarray:
            return np.concatenate([a, np.full(grow, fill, a.dtype)]) if grow > 0 else a.copy()

        self.alive, self.price = ext(prev.alive, False), ext(prev.price, np.nan)
        self.stock, self.brand = ext(prev.stock, 0), ext(prev.brand, -1)
        self.color, self.material, self.gender = ext(prev.color, -1), ext(prev.material, -1), ext(prev.gender, -1)
        self.facet_codes = {k: dict(v) for k, v in prev.facet_codes.items()}
        self.vid_pid = prev.vid_pid + [None] * max(grow, 0)
        self.cat_codes, self.brand_codes = dict(prev.cat_codes), dict(prev.brand_codes)
        self.cat_names_n, self.brand_names_n = Counter(prev.cat_names_n), Counter(prev.brand_names_n)

    def derive_from(self, prev: Snapshot, gone: list[Doc], new: list[Doc]) -> None:
        """`prev`'s columns with the `gone` documents cleared and the `new` ones set: an API write
        costs its own products, not a pass over the catalog (~0.1 s at 51k, seconds at 1M)."""
        self._extend_from(prev)
        names_before = self._names_in_use()
        for d in gone:
            self._clear(d)
        gone_vids = np.fromiter((d.vid for d in gone), np.int64, len(gone))
        keep = ~np.isin(prev.cat_vid, gone_vids)
        keep_size = ~np.isin(prev.size_vid, gone_vids)
        pair_vid: list[int] = []
        pair_code: list[int] = []
        size_vid: list[int] = []
        size_code: list[int] = []
        for d in new:
            self._set(d, pair_vid, pair_code)
            self._set_facets(d, size_vid, size_code)
        self.cat_vid = np.concatenate([prev.cat_vid[keep], np.array(pair_vid, dtype=np.int64)])
        self.cat_code = np.concatenate([prev.cat_code[keep], np.array(pair_code, dtype=np.int32)])
        self.size_vid = np.concatenate([prev.size_vid[keep_size], np.array(size_vid, dtype=np.int64)])
        self.size_code = np.concatenate([prev.size_code[keep_size], np.array(size_code, dtype=np.int32)])
        if self._names_in_use() == names_before:
            self.vocab, self.cat_family = prev.vocab, prev.cat_family
        else:
            self._vocabulary()

    def mask(self, f: SearchFilters) -> np.ndarray | None:
        """Which vids pass the filters (None: no filter, so the search need not take a mask)."""
        if all(v is None for v in f.model_dump().values()):
            return None
        m = self.alive.copy()
        if f.price_min is not None:
            m &= np.nan_to_num(self.price, nan=-np.inf) >= f.price_min
        if f.price_max is not None:
            m &= np.nan_to_num(self.price, nan=np.inf) <= f.price_max
        if f.in_stock:
            m &= self.stock > 0
        elif f.in_stock is False:
            m &= self.stock <= 0
        if f.category:
            codes = self.cat_family.get(f.category.lower()) or [self.cat_codes.get(f.category.lower(), -2)]
            in_cat = np.zeros(len(m), bool)
            in_cat[self.cat_vid[np.isin(self.cat_code, codes)]] = True
            m &= in_cat
        if f.brand:
            m &= self.brand == self.brand_codes.get(f.brand.lower(), -2)
        return self._facet_mask(m, f)

    def _codes(self, facet: str, word: str, *, part: bool = False) -> list[int]:
        """Codes of a facet's values equal to `word` (or, with `part`, containing it as a word:
        "leather" is in "full-grain leather", "grey" is "gray")."""
        w = word.strip().lower()
        alt = {"grey": "gray", "gray": "grey", "colour": "color"}.get(w, w)
        codes = self.facet_codes.get(facet, {})
        if not part:
            return [c for v, c in codes.items() if v in (w, alt)]
        pat = re.compile(rf"\b(?:{re.escape(w)}|{re.escape(alt)})\b")
        return [c for v, c in codes.items() if pat.search(v)]

    def _facet_mask(self, m: np.ndarray, f: SearchFilters) -> np.ndarray:
        if f.color:
            m &= np.isin(self.color, self._codes("color", f.color, part=True))
        if f.material:
            m &= np.isin(self.material, self._codes("material", f.material, part=True))
        if f.material_not:
            m &= ~np.isin(self.material, self._codes("material", f.material_not, part=True))
        if f.gender:
            m &= np.isin(self.gender, self._codes("gender", f.gender) + self._codes("gender", "unisex"))
        if f.size:
            has = np.zeros(len(m), bool)
            has[self.size_vid[np.isin(self.size_code, self._codes("size", f.size))]] = True
            m &= has
        return m
