"""Follow-up resolution: a context-dependent message becomes a standalone one, slots carry over.

Pure functions over the five-turn window (no Redis, no HTTP), so the benchmark and the service
run exactly the same code. History turns are scored for relevance to the new message with a
lexical cosine (words for English, character bigrams for Chinese) plus a recency prior, not
blindly concatenated: the most relevant turn that showed products is the one "the second one"
points into. A MiniLM embedding would cost 8-26 ms per message on this machine, which the
5 ms state-update budget cannot carry; lexical overlap is what the references need anyway
(the product titles are in the message when a shopper names them).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kefu.vocab import detect_lang, is_zh
from services.dialog import slots as sl

IDENTITY_SLOTS = ("email", "phone")
PRICE_SLOTS = ("price_min", "price_max")


@dataclass
class ProductInfo:
    id: str
    title: str
    title_zh: str = ""
    price: float | None = None

    def name(self, lang: str) -> str:
        return self.title_zh if lang == "zh" and self.title_zh else self.title


@dataclass
class WindowTurn:
    user: str = ""
    bot: str = ""
    products: list[str] = field(default_factory=list)
    intent: str | None = None


@dataclass
class Resolution:
    standalone: str
    rewritten: bool
    slots: dict[str, Any]
    referenced_products: list[str]
    topic_changed: bool
    topic: str | None
    kind: str = "none"  # reference|cheaper|pricier|elliptical|order|none
    ambiguous: bool = False
    scores: list[float] = field(default_factory=list)
    lang: str = "en"


# --------------------------------------------------------------------------- lexical relevance

_STOP_EN = {
    "the", "a", "an", "is", "are", "it", "this", "that", "one", "of", "to", "in", "for", "and", "or", "me",
    "my", "i", "you", "do", "does", "have", "has", "any", "some", "what", "how", "much", "can", "please",
    "show", "with", "on", "be", "there", "their", "your", "ones", "them", "about", "would", "like",
}
_WORD = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    text = text.lower()
    toks = [w.rstrip("s") if len(w) > 3 else w for w in _WORD.findall(text) if w not in _STOP_EN]
    han = "".join(sl.CJK.findall(text))
    toks += [han[i:i + 2] for i in range(len(han) - 1)]
    return toks


def similarity(a: str, b: str) -> float:
    ta, tb = Counter(_tokens(a)), Counter(_tokens(b))
    if not ta or not tb:
        return 0.0
    dot = sum(v * tb[k] for k, v in ta.items() if k in tb)
    return dot / math.sqrt(sum(v * v for v in ta.values()) * sum(v * v for v in tb.values()))


def score_turns(text: str, window: list[WindowTurn], info: dict[str, ProductInfo]) -> list[float]:
    """Relevance of each window turn to the new message: 0.7 lexical + 0.3 recency."""
    n = len(window)
    out = []
    for i, turn in enumerate(window):
        titles = " ".join(info[p].title + " " + info[p].title_zh for p in turn.products if p in info)
        sim = similarity(text, f"{turn.user} {titles}")
        out.append(round(0.7 * sim + 0.3 * (i + 1) / n, 4))
    return out


# --------------------------------------------------------------------------- cue patterns

_ORD_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "1st": 1, "2nd": 2,
              "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "last": -1}
_ORD = "(first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th|last)"
_NOUNS = r"(?:one|item|product|option|pair|choice|model|pick|result)"
ORDINAL_EN = [
    re.compile(r"\bthe\s+" + _ORD + r"(?:\s+" + _NOUNS + r")?\b", re.I),
    re.compile(r"\b" + _ORD + r"\s+" + _NOUNS + r"\b", re.I),
    re.compile(r"\b(?:number|no\.|option|item|#)\s*([1-6])\b", re.I),
]
ORDINAL_ZH = [
    re.compile(r"第([一二三四五六七八九十\d]{1,2})(?:个|款|件|双|种|条|台|项|只|套|副|本)?"),
    re.compile(r"最后(?:一个|一款|那个|那款|一件|一双|这个|这款)"),
]
PRONOUN_EN = re.compile(
    r"\b(this one|that one|this pair|that pair|this item|that item|this product|that product|"
    r"this model|that model|it)\b(?!\s*(?:'s\s+(?:ok|okay|fine|fine|possible)|is\s+(?:possible|ok|okay|fine)|"
    r"possible|matter|doesn't matter))", re.I)
PRONOUN_ZH = re.compile(r"(这个|那个|这款|那款|这件|那件|这双|那双|这一款|它)(?!月|星期|周|问题|时候|样)")
_IT_GUARD = re.compile(r"\b(make it|is it possible|it'?s (?:ok|okay|fine|alright)|it doesn'?t|forget it|"
                       r"never ?mind|get it\b(?! in)|got it)", re.I)

CHEAPER_EN = re.compile(r"\b(cheaper|less expensive|more affordable|lower[- ]priced|lower price|budget)\b", re.I)
CHEAPER_ZH = re.compile(r"(便宜点|便宜一点|更便宜|便宜些|便宜的|再便宜|实惠一点|实惠点|更实惠|低一点的价|价格低一点)")
PRICIER_EN = re.compile(r"\b(more expensive|pricier|higher[- ]end|premium|better quality|fancier)\b", re.I)
PRICIER_ZH = re.compile(r"(更贵|贵一点|贵点|高端一点|高档一点|更好一点|好一点的)")

ORDER_WORDS_EN = re.compile(
    r"\b(orders?|package|parcel|deliver(?:y|ed)?|shipped|shipment|tracking|track|refund|cancel|"
    r"arrive|arriving|where is my|return(?:ing)?|exchange)\b", re.I)
ORDER_WORDS_ZH = re.compile(r"(订单|快递|物流|包裹|发货|退款|退货|取消|到货|签收|换货|单号|运单|送到)")

SEARCH_EN = re.compile(
    r"^(?:hi[,!.]?\s+|hello[,!.]?\s+|ok[,!.]?\s+|okay[,!.]?\s+|and\s+|also\s+|now\s+)?"
    r"(?:can you |could you |please |pls )?"
    r"(?:show me|find me|find|search for|look for|i'?m looking for|i am looking for|looking for|"
    r"i want to buy|i'?d like to buy|i need to buy|i want|i need|i'?d like|i'?m after|i am after|"
    r"do you (?:have|sell|carry)|"
    r"have you got|got any|recommend(?: me)?|suggest|what (?:are|is) (?:some|a good|the best|good)|"
    r"let me see|i'?m shopping for|shopping for|any)\s+"
    r"(.+?)\s*[?.!]*$", re.I)
SEARCH_ZH = re.compile(
    r"(?:我想买|我要买|想买|我想要|我想找|我要找|我需要|有没有|有没|有什么|推荐(?:一下|几款|一些|点|个)?|"
    r"给我看看|给我推荐(?:一下)?|帮我找(?:一下)?|找一下|我在找|看看|求推荐|我要)(.+?)(?:吗|呢|啊|吧)?[？?。!！]*$")
_LEAD_EN = re.compile(r"^(?:some|a|an|any|the|good|nice|new|a pair of|pair of|a few|few)\s+", re.I)
_TAIL_EN = re.compile(r"\s+(?:please|for me|pls|thanks|thank you)$", re.I)
_LEAD_ZH = re.compile(r"^(?:一些|几款|一款|一双|一件|一个|一条|一台|点|些|一下|款|的)+")
_NOT_QUERY = re.compile(r"^(?:to |help|a refund|refund|my |an? (?:agent|human|person)|human|agent|someone|"
                        r"it\b|them\b|that\b|this\b|one\b|ones\b|in\b|with\b|size\b|more\b|other\b)", re.I)

_FILLER_EN = re.compile(
    r"\b(what about|how about|and|in|any|ones?|do you have|have you got|got|them|those|please|maybe|"
    r"also|perhaps|then|with|available|is there|are there|something|anything|colou?r|size|a|an|the|"
    r"pair|instead|ok|okay|hmm|or)\b", re.I)
_FILLER_ZH = re.compile(r"(那|有没有|有|的|呢|吗|吧|啊|要|换成|换|改成|还有|颜色|尺码|码|号|可以|呀|么|再)")


def detect_search(text: str) -> str | None:
    """The product query a search message asks for ('show me red running shoes under 100' ->
    'red running shoes'), or None when the message is not a fresh search."""
    t = text.strip()
    if is_zh(t):
        m = SEARCH_ZH.search(t)
        if not m or ORDER_WORDS_ZH.search(t):
            return None
        q = sl.strip_price_phrases(m.group(1))
        q = re.sub(r"[，,。？?！!]+", " ", q).strip()
        q = re.sub(r"(?:价格|价位|价钱|预算)在?", " ", q)
        q = re.sub(r"\s+", " ", q).strip()
        q = _LEAD_ZH.sub("", q).strip()
        q = re.sub(r"(?:的|吗|呢)+$", "", q).strip()
        leftover = re.sub(r"[\s，,。？?！!]+", "", _FILLER_ZH.sub("", _attr_free(q)))
        if not leftover or PRONOUN_ZH.search(q) or CHEAPER_ZH.search(q):
            return None
        return re.sub(r"\s+", " ", q)
    m = SEARCH_EN.match(t)
    if not m:  # "actually nevermind. show me X": the last sentence may be the search
        parts = re.split(r"(?<=[.!;])\s+", t)
        m = SEARCH_EN.match(parts[-1]) if len(parts) > 1 else None
        if m and ORDER_WORDS_EN.search(parts[-1]) is None:
            t = parts[-1]
    if not m or ORDER_WORDS_EN.search(t):
        return None
    q = sl.strip_price_phrases(m.group(1))
    q = re.sub(r"[,;]+", " ", q)
    q = re.sub(r"\s+", " ", q).strip(" ?.!")
    q = _TAIL_EN.sub("", q)
    while True:
        q2 = _LEAD_EN.sub("", q)
        if q2 == q:
            break
        q = q2
    if not q or _NOT_QUERY.match(q) or CHEAPER_EN.search(q) or PRICIER_EN.search(q):
        return None
    if not _FILLER_EN.sub("", _attr_free(q)).strip(" ?.!,"):
        return None
    return q


def _attr_free(text: str) -> str:
    """The message without colour, size, price and quantity phrases (what is left is content)."""
    t = sl.strip_price_phrases(text)
    for pat in sl._SIZE_PATTERNS:
        t = pat.sub(" ", t)
    for w in sl._ZH_SIZE_WORD:
        t = t.replace(w, " ")
    t = sl._COLOUR_ZH_RE.sub(" ", t)
    t = re.sub(r"(黑|白|红|蓝|绿|黄|粉|紫|灰|棕|橙|米|银|金)色", " ", t)
    t = sl._COLOUR_EN_RE.sub(" ", t)
    t = sl._QTY_ZH.sub(" ", t)
    for pat in sl._QTY_EN:
        t = pat.sub(" ", t)
    return t


def is_elliptical(text: str) -> bool:
    """'what about in red?', 'size 10?', '42码的呢' — only attributes, no new content."""
    rest = _attr_free(text)
    if is_zh(text):
        rest = _FILLER_ZH.sub("", rest)
        rest = re.sub(r"[\s，,。？?！!~～]+", "", rest)
    else:
        rest = _FILLER_EN.sub(" ", rest)
        rest = re.sub(r"[\s,.?!~]+", "", rest)
    return rest == ""


def find_ordinal(text: str) -> tuple[int, int, int] | None:
    """(position, span start, span end); position -1 = last."""
    pats = ORDINAL_ZH if is_zh(text) else ORDINAL_EN
    for pat in pats:
        m = pat.search(text)
        if not m:
            continue
        if m.re is ORDINAL_ZH[1]:
            return -1, m.start(), m.end()
        raw = m.group(1).lower()
        if raw in _ORD_WORDS:
            return _ORD_WORDS[raw], m.start(), m.end()
        n = sl.zh_number(raw)
        if n:
            return n, m.start(), m.end()
    return None


def find_pronoun(text: str) -> tuple[int, int] | None:
    if is_zh(text):
        m = PRONOUN_ZH.search(text)
        return (m.start(), m.end()) if m else None
    if _IT_GUARD.search(text):
        return None
    m = PRONOUN_EN.search(text)
    return (m.start(), m.end()) if m else None


def _content_overlap(a: str, b: str) -> bool:
    ta, tb = set(_tokens(a)), set(_tokens(b))
    return bool(ta & tb)


# Colour, size, between, under, over: how each language words the attributes of a rewrite.
_ATTR_WORDS = {
    "zh": ("{}", "{}码", "{}到{}元", "{}元以下", "{}元以上"),
    "en": ("in {}", "size {}", "between {} and {}", "under {}", "over {}"),
}


def attrs_phrase(slots: dict[str, Any], lang: str) -> str:
    """The canonical words for colour, size and price, in that order."""
    zh = lang == "zh"
    colour_w, size_w, between_w, under_w, over_w = _ATTR_WORDS["zh" if zh else "en"]
    parts: list[str] = []
    colour = slots.get("colour")
    if colour:
        parts.append(colour_w.format(sl.COLOUR_ZH_NAME.get(colour, colour) if zh else colour))
    if slots.get("size"):
        parts.append(size_w.format(slots["size"]))
    pmin, pmax = slots.get("price_min"), slots.get("price_max")
    if pmin is not None and pmax is not None:
        parts.append(between_w.format(sl.fmt_price(pmin), sl.fmt_price(pmax)))
    elif pmax is not None:
        parts.append(under_w.format(sl.fmt_price(pmax)))
    elif pmin is not None:
        parts.append(over_w.format(sl.fmt_price(pmin)))
    return " ".join(parts)


def _in_lang(lang: str, zh: re.Pattern[str], en: re.Pattern[str]) -> re.Pattern[str]:
    return zh if lang == "zh" else en


def detect_topic(text: str, extracted: dict[str, Any], search_q: str | None) -> str | None:
    if extracted.get("order_id"):
        return "order"
    if search_q:
        return "product"
    if _in_lang(detect_lang(text), ORDER_WORDS_ZH, ORDER_WORDS_EN).search(text):
        return "order"
    return None


# --------------------------------------------------------------------------- the resolver
#
# One message is resolved in four steps: read its cues (what it says by itself), decide whether
# the topic changed and carry the slots over, find the shown products it can point into, then
# try the rewrites in order (a product reference, a cheaper/pricier move, an elliptical
# follow-up, an order follow-up); the first that applies decides the kind.

@dataclass
class Cues:
    """What one message says by itself, before any context."""

    lang: str
    extracted: dict[str, Any]
    ordinal: tuple[int, int, int] | None
    pronoun: tuple[int, int] | None
    cheaper: bool
    pricier: bool
    search_q: str | None
    new_topic: str | None


def read_cues(text: str, slots: dict[str, Any], topic: str | None) -> Cues:
    lang = detect_lang(text)
    extracted = sl.extract(text)
    ordinal = find_ordinal(text)
    # a message that names its own object (an order id, contact details) has no reference to resolve
    pronoun = None if ordinal or any(k in extracted for k in ("order_id", "email", "phone")) \
        else find_pronoun(text)
    cheaper = bool(_in_lang(lang, CHEAPER_ZH, CHEAPER_EN).search(text))
    pricier = bool(_in_lang(lang, PRICIER_ZH, PRICIER_EN).search(text))
    search_q = None if (ordinal or cheaper or pricier or pronoun) else detect_search(text)
    new_topic = detect_topic(text, extracted, search_q)
    if (ordinal or (pronoun and topic == "product" and slots.get("product_id"))) and not extracted.get("order_id"):
        new_topic = None  # "can I return the second one / it?" stays on the products
    return Cues(lang, extracted, ordinal, pronoun, cheaper, pricier, search_q, new_topic)


def topic_changes(cues: Cues, slots: dict[str, Any], topic: str | None) -> bool:
    """A new topic, or a product search unrelated to the one before."""
    if topic and cues.new_topic and cues.new_topic != topic:
        return True
    return bool(cues.search_q and topic == "product" and slots.get("query")
                and not _content_overlap(cues.search_q, slots["query"]))


def carry_slots(cues: Cues, slots: dict[str, Any], topic_changed: bool) -> dict[str, Any]:
    """The slots after this message: a topic change keeps only who the shopper is; a stated
    price replaces both bounds; a new search drops the product in focus."""
    # "_"-keys are the gateway's conversation state (the pending goal, verified orders): kept too
    base = ({k: v for k, v in slots.items() if k in IDENTITY_SLOTS or k.startswith("_")} if topic_changed
            else dict(slots))
    if any(k in cues.extracted for k in PRICE_SLOTS):
        for k in PRICE_SLOTS:
            base.pop(k, None)
    new_slots = {**base, **cues.extracted}
    if cues.search_q:
        new_slots["query"] = cues.search_q
        new_slots.pop("product_id", None)
    return new_slots


def shown_products(window: list[WindowTurn], scores: list[float], ordinal: tuple[int, int, int] | None) -> list[str]:
    """The products of the most relevant turn that showed any; an ordinal needs a list at least
    that long ("the third one" never points into one product)."""
    need = max(2, ordinal[0]) if ordinal else 1
    product_turns = [(scores[i], i) for i, t in enumerate(window) if len(t.products) >= need]
    if not product_turns:
        return []
    _, best = max(product_turns)
    return window[best].products


@dataclass
class Draft:
    """A resolution in the making; the rewrite steps fill it in, the first that applies sets `kind`."""

    text: str
    cues: Cues
    slots: dict[str, Any]
    topic: str | None
    shown: list[str]
    focus: str | None
    info: dict[str, ProductInfo]
    standalone: str  # the message itself until a rewrite applies
    kind: str = "none"
    refs: list[str] = field(default_factory=list)
    ambiguous: bool = False

    def name(self, pid: str | None) -> str | None:
        p = self.info.get(pid) if pid else None
        return p.name(self.cues.lang) if p else None

    def replace(self, span: tuple[int, int], repl: str) -> str:
        return self.text[:span[0]] + repl + self.text[span[1]:]

    def refer(self, pid: str, span: tuple[int, int]) -> None:
        self.refs = [pid]
        self.standalone, self.kind = self.replace(span, self.name(pid) or ""), "reference"
        self.slots["product_id"] = pid

    def follows_order(self) -> bool:
        """The conversation is about an order this message does not name itself."""
        return self.topic == "order" and bool(self.slots.get("order_id")) and not self.cues.extracted.get("order_id")


def point_at_product(d: Draft) -> None:
    """"the second one" / "it" becomes the product's name (or "it" the order in focus)."""
    c = d.cues
    if c.ordinal and d.shown:
        pos, start, end = c.ordinal
        idx = len(d.shown) - 1 if pos == -1 else pos - 1
        if 0 <= idx < len(d.shown) and d.name(d.shown[idx]):
            d.refer(d.shown[idx], (start, end))
    elif c.pronoun and not c.cheaper and not c.pricier:
        if d.follows_order():
            oid = d.slots["order_id"]
            d.standalone, d.kind = d.replace(c.pronoun, f"订单{oid}" if c.lang == "zh" else f"order {oid}"), "order"
            return
        target = d.focus if d.name(d.focus) else (d.shown[0] if len(d.shown) == 1 else None)
        if target and d.name(target):
            d.refer(target, c.pronoun)
        elif len(d.shown) > 1:
            d.ambiguous = True


def shift_price(d: Draft) -> None:
    """"cheaper ones" becomes the subject under the lowest price shown (pricier: over the highest)."""
    c = d.cues
    if d.kind != "none" or not (c.cheaper or c.pricier) or not (d.shown or d.focus):
        return
    anchor_ids = [d.focus] if d.focus and d.focus in d.info else [p for p in d.shown if p in d.info]
    prices = [pr for p in anchor_ids if (pr := d.info[p].price) is not None]
    explicit = any(k in c.extracted for k in PRICE_SLOTS)
    if not (prices or explicit):
        return
    for k in PRICE_SLOTS:
        d.slots.pop(k, None)
    if explicit:
        d.slots.update({k: c.extracted[k] for k in PRICE_SLOTS if k in c.extracted})
    elif c.cheaper:
        d.slots["price_max"] = sl.number(str(min(prices)))
    else:
        d.slots["price_min"] = sl.number(str(max(prices)))
    subject = d.slots.get("query") or d.name(d.focus) or ""
    phrase = attrs_phrase({**{k: d.slots[k] for k in PRICE_SLOTS if k in d.slots},
                           "colour": c.extracted.get("colour"), "size": c.extracted.get("size")}, c.lang)
    d.standalone, d.kind = f"{subject} {phrase}".strip(), "cheaper" if c.cheaper else "pricier"
    d.slots.pop("product_id", None)


def complete_ellipsis(d: Draft) -> None:
    """"what about in red?" after a search becomes the search in red."""
    c = d.cues
    if d.kind != "none" or c.search_q or c.ordinal or c.pronoun or not d.slots.get("query") or d.topic == "order":
        return
    if not any(k in c.extracted for k in ("colour", "size", *PRICE_SLOTS)) or not is_elliptical(d.text):
        return
    d.standalone = f"{d.slots['query']} {attrs_phrase(c.extracted, c.lang)}".strip()
    d.kind = "elliptical"
    d.slots.pop("product_id", None)


def name_the_order(d: Draft) -> None:
    """"when will it arrive?" about an order becomes the question for that order id."""
    c = d.cues
    if d.kind != "none" or not d.follows_order() or c.ordinal \
            or not _in_lang(c.lang, ORDER_WORDS_ZH, ORDER_WORDS_EN).search(d.text):
        return
    d.standalone, d.kind = with_order_id(d.text, d.slots["order_id"], c.lang), "order"


def with_order_id(text: str, oid: str, lang: str) -> str:
    if lang == "zh":
        return text.replace("订单", f"订单{oid}", 1) if "订单" in text else f"订单{oid} {text}"
    m = re.search(r"\b(my|the|this|that|your)\s+order\b", text, re.I)
    if m:
        return text[:m.end()] + f" {oid}" + text[m.end():]
    core = text.rstrip(" ?.!")
    return f"{core} for order {oid}{text[len(core):]}"


REWRITES = (point_at_product, shift_price, complete_ellipsis, name_the_order)


def resolve(text: str, window: list[WindowTurn], slots: dict[str, Any], topic: str | None,
            info: dict[str, ProductInfo]) -> Resolution:
    """Resolve one new message against the window (turns oldest first) and carried slots."""
    cues = read_cues(text, slots, topic)
    scores = score_turns(text, window, info)
    changed = topic_changes(cues, slots, topic)
    d = Draft(text=text, cues=cues, slots=carry_slots(cues, slots, changed), topic=cues.new_topic or topic,
              shown=shown_products(window, scores, cues.ordinal),
              focus=None if changed else slots.get("product_id"), info=info, standalone=text)
    for rewrite in REWRITES:
        rewrite(d)
    standalone = d.standalone.strip()
    return Resolution(
        standalone=standalone, rewritten=standalone != text.strip(), slots=d.slots,
        referenced_products=d.refs, topic_changed=changed, topic=d.topic, kind=d.kind,
        ambiguous=d.ambiguous, scores=scores, lang=cues.lang,
    )


def normalise(text: str) -> str:
    """How rewrites are compared in the scenario benchmark: case, spacing and end punctuation."""
    t = text.strip().lower()
    t = re.sub(r"[?？!！.。,，~～]+$", "", t)
    t = re.sub(r"\s+", " ", t).strip()
    if is_zh(t):
        t = t.replace(" ", "")
    return t
