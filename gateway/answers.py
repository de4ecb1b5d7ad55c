"""Does a generated reply answer the shopper's intent, in the shopper's language?

The grounding check catches invented facts; this catches the opposite failure of a small
responder: a fluent reply that states no fact at all ("I can be updated with a new address." to
"where is my order KF100001?"). For every intent whose turn carries facts, the reply must carry
the key ones — order id or tracking number plus the status for an order, a shown product's name
for a search, the price for a price question, the stock state, a number or key terms of the
policy section — or the gateway answers with the grounded template instead.

Pure functions of (reply, ReplyContext): no I/O, cheap enough to run on every generated reply.
"""

from __future__ import annotations

import re
from typing import Any

from kefu.contracts import ReplyContext
from kefu.prompting import POLICY_CHARS, clip_sentences
from kefu.vocab import HAN_CLASS, ORDER_INTENTS, Intent, refund_words, status_words
from kefu.vocab.orders import SELF_NEGATED

_CJK = re.compile(f"[{HAN_CLASS}]")
_LATIN_WORD = re.compile(r"[a-z][a-z']+", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])\d+(?:\.\d+)?")
_NEG_BEFORE = re.compile(r"(?:\bnot|\bcannot|n't|\bnever|\bno longer|\bunable to|\byet to)\W+(?:\w+\W+){0,2}$")
_ZH_NEG_BEFORE = re.compile(r"(?:未|没|不|无法|尚未)$")

NO_REFUND = ("no refund", "not been refunded", "没有退款", "无退款")

ASK_ORDER = ("order number", "order id", "order no", "order #", "which order", "订单号", "订单编号", "单号")
NOT_FOUND = ("couldn't find", "could not find", "can't find", "cannot find", "can not find", "unable to find",
             "not find", "no order", "not found", "doesn't exist", "does not exist", "no match",
             "没有找到", "找不到", "查不到", "未找到", "不存在", "没有查到", "没找到")
REFUSE = ("can't", "cannot", "can not", "unable", "not possible", "no longer", "not able", "isn't possible",
          "already", "无法", "不能", "不可以", "没法", "不可", "已不能")
CANCEL_DONE = ("cancelled", "canceled", "已取消", "取消成功", "已为您取消", "已经取消")
IN_STOCK = ("in stock", "available", "有货", "现货", "库存")
OUT_OF_STOCK = ("out of stock", "sold out", "unavailable", "not available", "not in stock", "no stock",
                "缺货", "售罄", "无货", "没有货", "没货", "暂无库存")

ORDER_ANSWER_INTENTS = ORDER_INTENTS | {Intent.PAYMENT_ISSUE, Intent.SHIPPING_INFO}
ASK_WHEN_NO_ORDER = {"order_status", "cancel_order", "change_order", "change_address"}
PRODUCT_NAME_INTENTS = {"product_search", "recommendation", "product_question"}
POLICY_STOP = set("""about above after again against their there these those which while would could should
shall other under until where when what with your yours from into than that this have been being every
within items item please thank thanks order orders using also only more most some such very will just""".split())


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("‘", "'").split())


def _has(text: str, phrases: tuple[str, ...] | list[str], *, negatable: bool = True) -> bool:
    """Any phrase present as a whole word (CJK: as a substring) and not negated just before."""
    for ph in phrases:
        p = ph.lower()
        cjk = bool(_CJK.search(p))
        pat = re.escape(p) if cjk else r"(?<![a-z])" + re.escape(p) + r"(?![a-z])"
        for m in re.finditer(pat, text):
            if negatable and ph not in SELF_NEGATED:
                before = text[max(0, m.start() - 30):m.start()]
                if (_ZH_NEG_BEFORE.search(before) if cjk else _NEG_BEFORE.search(before)):
                    continue
            return True
    return False


def numbers_in(text: str) -> set[float]:
    """Every number a text states, rounded to cents (the grounding check compares these too)."""
    out: set[float] = set()
    for m in _NUMBER.finditer(text):
        try:
            out.add(round(float(m.group(0).replace(",", "")), 2))
        except ValueError:
            pass
    return out


def _title_zh(p: dict[str, Any]) -> str:
    attrs = p.get("attributes")
    zh = attrs.get("title_zh") if isinstance(attrs, dict) else None
    return str(p.get("title_zh") or zh or "")


def title_parts(p: dict[str, Any]) -> list[str]:
    """Names a reply may use for a product: full title (en/zh), title without the brand, or
    brand + model name ("Pacer Glide") — the part that tells it apart from other shoes."""
    parts: list[str] = []
    brand = _norm(str(p.get("brand") or ""))
    for title in (_norm(str(p.get("title") or "")), _norm(_title_zh(p))):
        if not title:
            continue
        parts.append(title)
        words = title.split()
        if brand and title.startswith(brand + " "):
            rest = title[len(brand) + 1:].split()
            if len(rest) >= 2:
                parts.append(" ".join(rest))
            if rest and len(rest[0]) >= 2:
                parts.append(f"{brand} {rest[0]}")
        elif len(words) >= 2 and len(words[0]) >= 2 and len(words[1]) >= 2:
            parts.append(" ".join(words[:2]))
    return list(dict.fromkeys(parts))


def _mentions_product(low: str, products: list[dict[str, Any]]) -> dict[str, Any] | None:
    for p in products:
        if any(part in low for part in title_parts(p)):
            return p
    return None


def policy_facts_present(low: str, policy: str, lang: str, user_text: str) -> bool:
    """A number from the policy section, or key terms of what the responder was shown of it:
    two English terms (words of 5+ letters or names like Visa) or three Chinese character pairs,
    at least one of them not just echoed from the shopper's question."""
    if numbers_in(low) & numbers_in(policy):
        return True
    raw = clip_sentences(policy, POLICY_CHARS.get(lang, 240))
    asked = _norm(user_text)
    terms = {w.lower().strip("'") for w in _LATIN_WORD.findall(raw) if len(w) >= 5 or (len(w) >= 3 and w[0].isupper())}
    terms -= POLICY_STOP
    hits = [w for w in terms if re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", low)]
    need = 2
    if _CJK.search(raw):
        runs = re.findall(f"[{HAN_CLASS}]+", raw)
        bigrams = {r[i:i + 2] for r in runs for i in range(len(r) - 1)} - {"我们", "订单", "您的", "可以"}
        hits += [b for b in bigrams if b in low]
        need = 3
    return len(hits) >= need and any(h not in asked for h in hits)


def _order_answered(low: str, ctx: ReplyContext) -> list[str]:
    o = ctx.order or {}
    missing: list[str] = []
    ids = [str(o.get("id") or "").lower(), str(o.get("tracking_number") or "").lower()]
    if not any(i and i in low for i in ids):
        missing.append("order id or tracking number")
    st = str(o.get("status") or "")
    status_ok = _has(low, status_words(st, "en") + status_words(st, "zh"))
    intent = ctx.intent
    note = (ctx.note or "").lower()
    if intent == "cancel_order" and note.startswith("order cancelled"):
        if not _has(low, CANCEL_DONE):
            missing.append("that the order was cancelled")
    elif intent == "cancel_order" and note.startswith("order cannot be cancelled"):
        if not _has(low, REFUSE, negatable=False):
            missing.append("that the order cannot be cancelled")
    elif intent == "refund_status":
        rs = str(o.get("refund_status") or "")
        if rs:
            if not _has(low, refund_words(rs, "en") + refund_words(rs, "zh")):
                missing.append(f"refund status {rs}")
        elif not (status_ok or _has(low, NO_REFUND, negatable=False)):
            missing.append(f"status {st}")
    elif intent in ("order_status", "change_order", "change_address", "cancel_order"):
        if not status_ok:
            missing.append(f"status {st}")
    return missing


def _not_found_answered(low: str, ctx: ReplyContext) -> list[str]:
    """No order matched: the reply must say so and repeat the id asked about."""
    oid = str(ctx.slots.get("order_id") or "").lower()
    out = [] if _has(low, NOT_FOUND, negatable=False) else ["that the order was not found"]
    if oid and oid not in low:
        out.append("the order id asked about")
    return out


def _product_answered(low: str, ctx: ReplyContext) -> list[str]:
    """Products were shown: a name, the price or the stock state, whichever the intent asks."""
    intent = ctx.intent
    shown = ctx.products[:3]
    if intent in PRODUCT_NAME_INTENTS:
        return [] if _mentions_product(low, shown) else ["a shown product's name"]
    if intent == "price_question":
        prices = {round(float(p["price"]), 2) for p in shown if p.get("price") is not None}
        return [] if numbers_in(low) & prices else ["the price"]
    p = _mentions_product(low, shown) or shown[0]
    in_stock = int(p.get("stock") or 0) > 0
    out_words = _has(low, OUT_OF_STOCK, negatable=False)
    in_words = _has(low, IN_STOCK) and not out_words
    if (in_stock and in_words) or (not in_stock and out_words):
        return []
    return ["the stock state (" + ("in stock" if in_stock else "out of stock") + ")"]


def _policy_answered(low: str, policy: str, ctx: ReplyContext) -> list[str]:
    """Policy text was given: the reply states one of its facts, or (where an order would settle
    it) asks for the order number."""
    if policy_facts_present(low, policy, ctx.lang, ctx.user_text):
        return []
    if ctx.intent in ASK_WHEN_NO_ORDER | {"refund_status", "return_request"} and _has(low, ASK_ORDER, negatable=False):
        return []
    return ["a fact from the policy"]


def missing_facts(reply: str, ctx: ReplyContext) -> list[str]:
    """The key facts of this turn the reply does not state (empty: it answers the intent)."""
    low = _norm(reply)
    intent = ctx.intent
    if intent in ORDER_ANSWER_INTENTS and ctx.order and intent not in ("payment_issue", "shipping_info"):
        return _order_answered(low, ctx)
    if intent in ORDER_ANSWER_INTENTS and (ctx.note or "").lower().startswith("no order found"):
        return _not_found_answered(low, ctx)
    if ctx.products and (intent in PRODUCT_NAME_INTENTS or intent in ("price_question", "stock_availability")):
        return _product_answered(low, ctx)
    if not ctx.products and intent in ("product_search", "recommendation"):
        return [] if _has(low, NOT_FOUND + ("sorry", "抱歉"), negatable=False) else ["that nothing matched"]
    if ctx.policy and intent not in ("human_agent", "complaint", "greeting", "goodbye", "thanks",
                                     "out_of_scope"):
        return _policy_answered(low, ctx.policy, ctx)
    if intent in ASK_WHEN_NO_ORDER | {"refund_status"} and not ctx.order:
        return [] if _has(low, ASK_ORDER, negatable=False) else ["a request for the order number"]
    return []


def _fact_strings(ctx: ReplyContext) -> list[str]:
    """Strings a reply may quote verbatim whatever its language (ids, names, carriers, codes)."""
    out: list[str] = []
    o = ctx.order or {}
    for k in ("id", "tracking_number", "carrier", "currency"):
        if o.get(k):
            out.append(str(o[k]))
    for it in o.get("items") or []:
        if isinstance(it, dict) and it.get("title"):
            out.append(str(it["title"]))
    for p in ctx.products:
        for k in ("title", "brand", "id", "currency"):
            if p.get(k):
                out.append(str(p[k]))
        if _title_zh(p):
            out.append(_title_zh(p))
    for v in ctx.slots.values():
        if isinstance(v, str):
            out.append(v)
    out += ["USD", "CNY", "EUR", "KF", "PayPal", "Visa", "Mastercard", "Apple Pay", "Alipay", "WeChat Pay",
            "American Express", "Discover", "UPS", "FedEx", "USPS", "DHL", "SF Express"]
    return sorted({s for s in out if s}, key=len, reverse=True)


def language_ok(reply: str, ctx: ReplyContext) -> bool:
    """Judged on the reply's own words: ids, product names, carriers and the shopper's own Latin
    words are language-neutral, so "Here is Pacer Glide 女款缓震跑鞋" is not a Chinese answer."""
    low = _norm(reply)
    for s in _fact_strings(ctx):
        low = low.replace(_norm(s), " ")
    if ctx.lang == "zh":
        asked = set(_LATIN_WORD.findall(_norm(ctx.user_text)))
        latin = [w for w in _LATIN_WORD.findall(low) if w not in asked]
        cjk = len(_CJK.findall(low))
        return cjk >= 2 and cjk >= len(latin)
    latin = _LATIN_WORD.findall(low)
    return len(_CJK.findall(low)) <= max(2, len(latin))
