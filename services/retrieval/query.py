"""Query understanding: read price ranges, stock, category and brand out of the shopper's words.

What is understood becomes a filter and is cut from the text the scorers see ("sofa under 500"
is scored as "sofa", filtered to price <= 500), so "500" never has to match a product's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kefu.contracts import SearchFilters
from kefu.vocab import is_zh

from .text import stem, tokenize

_NUM = r"(\d+(?:[.,]\d+)?)\s*(k)?"
_CUR = r"(?:\$|usd\s*|us\$|€|£|¥|￥|rmb\s*)"
_CUR_PRE = _CUR + "?"
_CUR_POST = r"(?:\s*(?:dollars?|bucks|usd|euros?|eur|gbp|rmb|yuan|元|块钱?|rmb))?"
_P = _CUR_PRE + _NUM + _CUR_POST

_EN_MAX = r"(?:under|below|less\s+than|cheaper\s+than|lower\s+than|up\s+to|at\s+most|no\s+more\s+than|" \
          r"not\s+more\s+than|max(?:imum)?|within|<=?|budget(?:\s+of)?)"
_EN_MIN = r"(?:over|above|more\s+than|greater\s+than|at\s+least|min(?:imum)?|>=?|from|starting\s+at)"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # ranges first so "between 20 and 50" is not read as "from 20"
    (re.compile(r"\bbetween\s+" + _P + r"\s+(?:and|to|-)\s+" + _P, re.I), "range"),
    (re.compile(r"\bfrom\s+" + _P + r"\s+(?:to|-|until)\s+" + _P, re.I), "range"),
    (re.compile(_CUR + _NUM + r"\s*(?:-|–|to)\s*" + _P, re.I), "range"),
    (re.compile(r"(?:价格|价钱|预算)?\s*(?:在)?\s*" + _NUM + r"\s*(?:元|块钱?|美元)?\s*(?:到|至|-|~)\s*"
                + _NUM + r"\s*(?:元|块钱?|美元)?\s*(?:之间|以内|范围)", re.I), "range"),
    (re.compile(_NUM + r"\s*(?:-|–|~|到|至)\s*" + _NUM + r"\s*(?:元|块钱?|美元|rmb|dollars?|usd)", re.I),
     "range"),
    (re.compile(r"(?<![\w$])" + _EN_MAX + r"\s*" + _P, re.I), "max"),
    (re.compile(r"(?<![\w$])" + _EN_MIN + r"\s*" + _P, re.I), "min"),
    (re.compile(r"(?:低于|少于|不超过|不到|小于|不高于|最多|便宜于|预算)\s*" + _NUM + r"\s*(?:元|块钱?|美元)?", re.I),
     "max"),
    (re.compile(_NUM + r"\s*(?:元|块钱?|美元)?\s*(?:以下|以内|之内|内|以下的)", re.I), "max"),
    (re.compile(r"(?:高于|超过|多于|大于|不低于|至少)\s*" + _NUM + r"\s*(?:元|块钱?|美元)?", re.I), "min"),
    (re.compile(_NUM + r"\s*(?:元|块钱?|美元)?\s*(?:以上|起)", re.I), "min"),
    (re.compile(_CUR_PRE + _NUM + r"\s*(?:or|and)\s+(?:less|under|below|cheaper)\b", re.I), "max"),
    (re.compile(_CUR_PRE + _NUM + r"\s*(?:or|and)\s+(?:more|over|above|up)\b", re.I), "min"),
]

_STOCK = re.compile(r"\b(?:in[\s-]stock|available\s+now|ready\s+to\s+ship|available\s+today)\b|"
                    r"有货|现货|有库存|库存充足", re.I)


def _num(value: str, k: str | None) -> float:
    v = float(value.replace(",", ""))
    return v * 1000 if k else v


@dataclass
class ParsedQuery:
    text: str  # what the scorers see
    filters: SearchFilters
    understood: list[str] = field(default_factory=list)  # the phrases read as filters


def parse_price_stock(query: str) -> tuple[str, SearchFilters, list[str]]:
    f = SearchFilters()
    understood: list[str] = []
    text = query
    for pat, kind in _PATTERNS:
        m = pat.search(text)
        if not m:
            continue
        g = [x for x in m.groups()]
        try:
            if kind == "range":
                lo, hi = _num(g[0], g[1]), _num(g[2], g[3])
                lo, hi = min(lo, hi), max(lo, hi)
                f.price_min = lo if f.price_min is None else max(f.price_min, lo)
                f.price_max = hi if f.price_max is None else min(f.price_max, hi)
            elif kind == "max":
                hi = _num(g[0], g[1])
                f.price_max = hi if f.price_max is None else min(f.price_max, hi)
            else:
                lo = _num(g[0], g[1])
                f.price_min = lo if f.price_min is None else max(f.price_min, lo)
        except (ValueError, IndexError, TypeError):
            continue
        understood.append(m.group(0).strip())
        text = text[: m.start()] + " " + text[m.end():]
    m = _STOCK.search(text)
    if m:
        f.in_stock = True
        understood.append(m.group(0).strip())
        text = _STOCK.sub(" ", text)
    # "for a price" words left dangling: "a sofa for under 500" -> "a sofa for"
    text = re.sub(r"\b(?:for|at|priced|costing|price|with a)\s*$", " ", text.strip(), flags=re.I)
    text = re.sub(r"(?:价格|价钱|预算|的)\s*$", "", text.strip())
    text = re.sub(r"^\s*(?:的|在)", "", text)
    return " ".join(text.split()), f, understood


# Words that may follow the head noun of an English product phrase ("shoes for kids").
_TAIL_START = frozenset("for with without in on from by that which to near and or of under over below above "
                        "less more between".split())


def _is_head(stems: list[str], end: int) -> bool:
    """A category phrase is the product type only where it ends the noun phrase: at the end of
    the query or before a preposition. Elsewhere it is a modifier ("crib bedding", "bed risers")."""
    return end == len(stems) or stems[end] in _TAIL_START


def category_parts(name: str) -> list[str]:
    """Product categories may list several ("Benches|Shoe Storage") or a path ("Home > Beds")."""
    return [p.strip() for p in re.split(r"\s*[|>;]\s*", name or "") if p.strip()]


def phrase_key(name: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in re.findall(r"[a-z0-9]+", name.lower()))


class Vocabulary:
    """Category and brand names known to the catalog, matched as whole token phrases."""

    def __init__(self, categories: dict[str, str], brands: dict[str, str]) -> None:
        # phrase (tuple of stemmed tokens, or raw CJK string) -> canonical name
        self.cat: dict[tuple[str, ...], str] = {}
        self.brand: dict[tuple[str, ...], str] = {}
        self.zh_cat: dict[str, str] = {}
        for name, canonical in categories.items():
            self._add(self.cat, name, canonical)
        for name, canonical in brands.items():
            self._add(self.brand, name, canonical)
        self.max_len = max([len(k) for k in (*self.cat, *self.brand)] or [1])

    def _add(self, table: dict, name: str, canonical: str) -> None:
        if is_zh(name):  # Chinese names match by substring (no spaces to split on)
            self.zh_cat[name.strip()] = canonical
            return
        toks = tuple(stem(t) for t in re.findall(r"[a-z0-9]+", name.lower()))
        if toks and not (len(toks) == 1 and len(toks[0]) < 3):
            table.setdefault(toks, canonical)

    def match(self, text: str) -> tuple[str | None, str | None, list[str], str]:
        """Longest category/brand phrases in the text: (category, brand, matched spans, brand span)."""
        low = text.lower()
        words = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[a-z0-9]+", low)]
        stems = [stem(w) for w, _, _ in words]
        category = brand = None
        brand_span = ""
        matched: list[str] = []
        for table, kind in ((self.cat, "cat"), (self.brand, "brand")):
            best: tuple[int, int, str] | None = None
            for i in range(len(stems)):
                for n in range(min(self.max_len, len(stems) - i), 0, -1):
                    name = table.get(tuple(stems[i:i + n]))
                    if name and kind == "cat" and not _is_head(stems, i + n):
                        continue  # "bed risers" is about risers, not beds
                    if name and (best is None or n > best[1] - best[0]):
                        best = (i, i + n, name)
                        break
            if best:
                span = text[words[best[0]][1]:words[best[1] - 1][2]]
                matched.append(span)
                if kind == "cat":
                    category = best[2]
                else:
                    brand, brand_span = best[2], span
        if category is None:
            for zh, canonical in sorted(self.zh_cat.items(), key=lambda kv: -len(kv[0])):
                if zh in text:
                    category = canonical
                    matched.append(zh)
                    break
        return category, brand, matched, brand_span


def parse_query(query: str, vocab: Vocabulary | None = None) -> ParsedQuery:
    """Filters from the words. Price, stock and brand phrases are cut from the scored text; a
    category name stays in it, because it is the product type the scorers rank by."""
    text, f, understood = parse_price_stock(query)
    if vocab is not None:
        cat, brand, matched, brand_span = vocab.match(text)
        f.category, f.brand = cat, brand
        understood += matched
        if brand_span:
            text = " ".join(text.replace(brand_span, " ").split())
    if not tokenize(text):  # nothing left to score ("under 50"): rank within the filters by name
        text = " ".join(x for x in (f.category, f.brand) if x) or text
    return ParsedQuery(text=text, filters=f, understood=understood)


def merge_filters(explicit: SearchFilters | None, parsed: SearchFilters) -> SearchFilters:
    """Explicit request filters win over what was read from the words."""
    out = parsed.model_copy()
    if explicit is not None:
        for k, v in explicit.model_dump().items():
            if v is not None:
                setattr(out, k, v)
    return out
