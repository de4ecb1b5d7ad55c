"""A shopping message read against the conversation's active search and the products it showed.

The active search is kept in the dialog slots (`_search`, so it survives a topic change and, with
the transcript, a lost Redis): the product type and each constraint as a field. A message then
either starts a new search (it names another product type), refines the active one ("in black",
"cheaper", "for women", "not leather", "换个便宜点的", "有黑色的吗"), asks about products shown
("does it come in XL?", "how much is the first one?"), or compares products ("the Pacer Glide vs
the Stride Rally 2"). No I/O here: the turn's act step searches and reads the products.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kefu.vocab import ORDER_INTENTS, PRODUCT_INTENTS, order_ids
from kefu.vocab import shopping as w

SEARCH_SLOT = "_search"
FILTERS = (
    "category",
    "brand",
    "color",
    "size",
    "material",
    "material_not",
    "gender",
    "price_min",
    "price_max",
    "in_stock",
)
KEYS = (*FILTERS, "warm", "text")
DROP = {
    "color": ("color",),
    "size": ("size",),
    "price": ("price_min", "price_max"),
    "brand": ("brand",),
    "material": ("material", "material_not"),
    "gender": ("gender",),
}

COMPARE = re.compile(
    r"\b(difference|differences|differ|compare|comparison|versus|vs\.?|better)\b|"
    r"区别|不同|差别|差异|比较|对比|哪个好|哪个更",
    re.I,
)
REFERENCE = re.compile(
    r"\b(it|its|this one|that one|this|that|these|those|them|they|both|the first|the second|"
    r"the third|the last)\b|这个|那个|这款|那款|这件|那件|这双|那双|它|这两|这几|第[一二三四五1-5]|最后",
    re.I,
)
ASKS: dict[str, re.Pattern[str]] = {
    "size": re.compile(r"\bsizes?\b|\bfit\b|尺码|码数|几码|号码|尺寸|大小", re.I),
    "color": re.compile(r"\bcolou?rs?\b|颜色|配色", re.I),
    "material": re.compile(r"\bmade (?:of|from)\b|\bmaterials?\b|\bfabric\b|材质|面料|什么做的|材料", re.I),
    "stock": re.compile(r"\bin stock\b|\bavailable\b|\bavailability\b|\bsold out\b|有货|库存|缺货|现货", re.I),
    "price": re.compile(r"\bhow much\b|\bprice\b|\bcost\b|多少钱|价格|价钱|几块", re.I),
    "gender": re.compile(r"\bfor (?:men|women)\b|\bunisex\b|男款还是女款|男女", re.I),
}
COME_IN = re.compile(r"\b(?:come|comes|available|have it|get it|it)\s+in\b|有没有|有.{0,4}吗|有.{0,4}的吗", re.I)
_SPLIT_NAMES = re.compile(r"\s*(?:\band\b|\bvs\.?|\bversus\b|\bor\b|,|和|与|跟|还是|以及)\s*", re.I)
_NAME_LEAD = re.compile(r"^.*?\b(?:between|compare|comparing)\s+(?:the\s+)?|^(?:the\s+)", re.I)
_NAME_TAIL = re.compile(r"\s*(?:\?|？|。|有什么区别.*|的区别.*|区别.*|有啥不同.*|哪个好.*|哪个更.*|对比.*|比较.*)$")
_ZH_LEAD = re.compile(r"^(?:请问|比较一下|对比一下|比较|对比)")


@dataclass
class ShopTurn:
    """What a shopping message does, and the active search it leaves."""

    kind: str  # search | refine | attribute | compare
    search: dict[str, Any] = field(default_factory=dict)  # the active search after this message
    changed: dict[str, Any] = field(default_factory=dict)  # constraints this message set (None: dropped)
    asks: list[str] = field(default_factory=list)  # attribute questions: size|color|material|stock|price|gender
    value: dict[str, Any] = field(default_factory=dict)  # values asked about ("XL", "black")
    targets: list[str] = field(default_factory=list)  # product ids the question or comparison is about
    names: list[str] = field(default_factory=list)  # product names to find (a comparison by name)
    shift: str | None = None  # cheaper | pricier: past the prices of the products shown
    shown: list[str] = field(default_factory=list)  # the products shown last, in order
    words: str = ""  # a new search's own words: retrieval reads a brand the catalog knows from them

    def evidence(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "search": self.search,
            "changed": self.changed,
            "asks": self.asks,
            "value": self.value,
            "targets": self.targets,
            "names": self.names,
        }


def active(slots: dict[str, Any]) -> dict[str, Any]:
    s = slots.get(SEARCH_SLOT)
    return {k: v for k, v in s.items() if k in KEYS} if isinstance(s, dict) else {}


def last_shown(history: list[Any]) -> list[str]:
    """The products the latest turn that showed any showed, in order."""
    for t in reversed(history):
        ps = list(getattr(t, "products", None) or [])
        if ps:
            return ps
    return []


def compare_names(text: str) -> list[str]:
    """ "what's the difference between the Pacer Glide and the Stride Rally 2?" -> the two names."""
    t = _NAME_TAIL.sub("", text.strip())
    t = _ZH_LEAD.sub("", _NAME_LEAD.sub("", t))
    names = [re.sub(r"^(?:the|a)\s+", "", n.strip(" ?.!，。"), flags=re.I) for n in _SPLIT_NAMES.split(t)]
    return [n for n in names if n and not REFERENCE.fullmatch(n) and len(n) >= 2][:3]


def _asks(text: str) -> tuple[list[str], dict[str, Any]]:
    asks = [k for k, pat in ASKS.items() if pat.search(text)]
    value: dict[str, Any] = {}
    size, colour = w.size_of(text), w.colour_of(text)
    if size:
        value["size"] = size
    if colour:
        value["color"] = colour
    if COME_IN.search(text):
        asks += [k for k in ("size", "color") if k in value and k not in asks]
    mat = w.material_of(text)
    if mat and ("material" in asks or re.search(r"\bis it\b|是.{0,3}吗", text)):
        value["material"] = mat
        if "material" not in asks:
            asks.append("material")
    return asks, value


def _merge(base: dict[str, Any], stated: dict[str, Any], text: str) -> dict[str, Any]:
    """The active search with this message's constraints: stated ones replace, dropped ones go."""
    out = dict(base)
    changed: dict[str, Any] = {}
    for key in w.dropped(text):
        for k in DROP.get(key, ()):
            if k in out:
                out.pop(k)
                changed[k] = None
    if "price_min" in stated or "price_max" in stated:
        out.pop("price_min", None)
        out.pop("price_max", None)
    for k, v in stated.items():
        out[k] = v
        changed[k] = v
    if stated.get("material") and out.get("material_not") == stated["material"]:
        out.pop("material_not")
    if stated.get("material_not") and out.get("material") == stated["material_not"]:
        out.pop("material")
    out["_changed"] = changed
    return out


def shift_price(search: dict[str, Any], shift: str, prices: list[float]) -> dict[str, Any]:
    """ "cheaper" is under the lowest price shown (or the bound already set); "pricier" over the highest."""
    out = dict(search)
    if shift == "cheaper":
        anchor = min(prices) if prices else out.get("price_max")
        if anchor is not None:
            out["price_max"] = round(float(anchor) - 0.01, 2)
            out.pop("price_min", None)
    else:
        anchor = max(prices) if prices else out.get("price_min")
        if anchor is not None:
            out["price_min"] = round(float(anchor) + 0.01, 2)
            out.pop("price_max", None)
    return out


_ORD_EN = re.compile(
    r"\b(?:the\s+)?(first|second|third|fourth|fifth|last|1st|2nd|3rd)\b(?:\s+(?:one|item|product|pair))?", re.I
)
_ORD_ZH = re.compile(r"第([一二三四五1-5])|最后一")
_ORD_IX = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "fifth": 4,
    "last": -1,
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
}


def ordinal(text: str) -> int | None:
    """The position "the first one" / "第二个" names (-1: the last), if any."""
    m = _ORD_EN.search(text)
    if m:
        return _ORD_IX[m.group(1).lower()]
    z = _ORD_ZH.search(text)
    if z:
        return _ORD_IX[z.group(1)] if z.group(1) else -1
    return None


def pick(shown: list[str], referenced: list[str], text: str) -> list[str]:
    """The products a question is about: what dialog resolved, else the position named among
    those shown (none if the list is shorter: then the reply asks), else those shown."""
    if referenced:
        return list(referenced)
    pos = ordinal(text)
    if pos is not None:
        return [shown[pos]] if shown and -len(shown) <= pos < len(shown) else []
    return shown[:3]


def _question(text: str, intent: str, base: dict[str, Any], shown: list[str], stated: dict[str, Any],
              referenced: list[str]) -> ShopTurn | None:
    """A comparison, or a question about products shown ("does it come in XL?")."""
    has_ref = bool(referenced) or bool(REFERENCE.search(text))
    if COMPARE.search(text) and (intent in PRODUCT_INTENTS or shown or base or len(compare_names(text)) >= 2):
        names = [] if referenced or (has_ref and shown) else compare_names(text)
        targets = list(referenced) if len(referenced) >= 2 else ([] if names else shown[: 3 if "three" in text else 2])
        if targets or len(names) >= 2:
            return ShopTurn("compare", search=base, targets=targets, names=names)
    asks, value = _asks(text)
    if not asks:
        return None
    # "how much?" right after a search is about what it showed, not a new search
    bare_price = bool(shown and base and "price" in asks and not stated.get("category") and not COME_IN.search(text))
    if (has_ref and shown) or bare_price:
        return ShopTurn("attribute", search=base, asks=asks, value=value, targets=pick(shown, referenced, text),
                        shown=shown)
    if has_ref and (referenced or ordinal(text) is not None):  # nothing shown to point into: ask which
        return ShopTurn("attribute", search=base, asks=asks, value=value, targets=list(referenced), shown=shown)
    return None


def read(text: str, intent: str, slots: dict[str, Any], history: list[Any], referenced: list[str]) -> ShopTurn | None:
    """The shopping reading of a message, or None when it is not about products (then the
    ordinary product/order flow answers it)."""
    if intent in ORDER_INTENTS or order_ids().find(text):
        return None
    base = active(slots)
    shown = last_shown(history)
    stated = w.constraints(text)
    question = _question(text, intent, base, shown, stated, referenced)
    if question is not None:
        return question
    refines = bool(stated or w.CHEAPER.search(text) or w.PRICIER.search(text) or w.dropped(text))
    if intent not in PRODUCT_INTENTS and not (base and refines):
        return None
    new_type = stated.get("category")
    if new_type and new_type != base.get("category"):
        kind, merged = "search", _merge({}, stated, text)
    elif base and refines:
        kind, merged = "refine", _merge(base, stated, text)
    elif intent in PRODUCT_INTENTS and (stated or not base):
        kind, merged = "search", _merge({}, stated, text)
    else:
        return None
    changed = merged.pop("_changed", {})
    if kind == "search" and not merged.get("category"):
        merged["text"] = text  # no product type named: the words themselves are the query
    shift = None
    if "price_max" not in stated and "price_min" not in stated:
        shift = "cheaper" if w.CHEAPER.search(text) else "pricier" if w.PRICIER.search(text) else None
    return ShopTurn(kind, search=merged, changed=changed, shift=shift, shown=shown,
                    words=text if kind == "search" else "")


def query_text(search: dict[str, Any]) -> str:
    """What the scorers rank by: warmth and material as words (a boost), then the product type."""
    parts = []
    if search.get("warm"):
        parts.append("warm insulated fleece down")
    if search.get("material"):
        parts.append(str(search["material"]))
    parts.append(str(search.get("category") or search.get("text") or ""))
    return " ".join(p for p in parts if p).strip()


def filters(search: dict[str, Any]) -> dict[str, Any]:
    return {k: search[k] for k in FILTERS if search.get(k) is not None}
