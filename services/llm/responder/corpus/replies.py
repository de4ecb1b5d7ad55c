"""One reply per intent: each builder draws the facts a turn would have (into a `Scene`) and
writes the reply a careful agent gives from those facts only, with the facts it must state.

Order statuses and refund states are worded as the gateway's templates word them (kefu.vocab):
in Chinese the reply states `STATUS_ZH` / `REFUND_ZH`; in English it copies the FACTS value.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kefu.prompting import POLICY_CHARS, clip_sentences, product_title
from kefu.vocab import CANCELLABLE, REFUND_ZH, STATUS_ZH, Intent
from services.llm.responder.corpus.phrasings import (
    GATED,
    GATED_MARKERS,
    NOTES,
    POLICY_LEAD,
    POLICY_OPENING,
    REFUSAL_REASON,
    markers,
    say,
)
from services.llm.responder.corpus.world import POLICY_TOPIC, World, first_sentence


class Reply(NamedTuple):
    text: str
    required: list[str]  # facts the reply must contain
    markers: list[str]  # any one must appear (replies without facts)


@dataclass
class Scene:
    """What the turn's context holds, filled in by the builder that writes its reply."""

    order: dict[str, Any] | None = None
    products: list[dict[str, Any]] = field(default_factory=list)
    policy: str | None = None
    note: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    user_oid: str | None = None  # the order id the shopper's message names


Builder = Callable[[random.Random, World, str, Scene], Reply]


def canned(r: random.Random, key: str, lang: str, required: tuple[str, ...] = (), **facts: Any) -> Reply:
    """A reply worded by `REPLIES[key]`, answering by its markers."""
    return Reply(say(r, key, lang, **facts), list(required), markers(key, lang))


def money(p: dict[str, Any]) -> str:
    return f"{float(p['price']):.2f} {p.get('currency') or 'USD'}"


def total(o: dict[str, Any]) -> str:
    return f"{float(o['total']):.2f} {o.get('currency') or 'USD'}"


def status_word(o: dict[str, Any], lang: str) -> str:
    return STATUS_ZH[o["status"]] if lang == "zh" else o["status"]


def refund_word(o: dict[str, Any], lang: str) -> str:
    return REFUND_ZH[o["refund_status"]] if lang == "zh" else o["refund_status"]


# ------------------------------------------------------------------ orders


def find_order(r: random.Random, w: World, lang: str, sc: Scene, statuses: tuple[str, ...] | None = None
               ) -> dict[str, Any] | Reply:
    """The order the turn is about, or the reply when it has none (ask for it) or names an
    unknown one (not found): most samples carry the order, 8 % lack it, 6 % name a wrong one."""
    roll = r.random()
    if roll < 0.08:
        return canned(r, "ask_order", lang)
    if roll < 0.14:
        return _not_found(r, w, lang, sc)
    order = w.order(status=r.choice(statuses) if statuses else None)
    sc.order = order
    sc.user_oid = order["id"] if r.random() < 0.75 else None
    if sc.user_oid or r.random() < 0.5:
        sc.slots = {"order_id": order["id"]}
    return order


def _not_found(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    oid = w.order_id()
    sc.slots = {"order_id": oid}
    sc.user_oid = oid
    sc.note = NOTES["not_found"][lang]
    return canned(r, "not_found", lang, (oid,), o=oid)


def _attach_order(r: random.Random, w: World, sc: Scene, statuses: tuple[str, ...], named: float) -> dict[str, Any]:
    """An order the shopper may mention (`named`: how often the message names its id)."""
    order = w.order(status=r.choice(statuses))
    sc.order = order
    sc.slots = {"order_id": order["id"]}
    sc.user_oid = order["id"] if r.random() < named else None
    return order


# Facts the tail of an order-status reply states, by status (keys of `_order_facts`).
_STATUS_TAIL_FACTS = {"shipped": ("t", "e"), "delivered": ("d",), "refunded": ("x",)}


def _order_facts(o: dict[str, Any], lang: str) -> dict[str, str]:
    return {"o": o["id"], "s": status_word(o, lang), "c": o["carrier"], "t": o["tracking_number"], "e": o["eta"],
            "d": (o["delivered_at"] or "")[:10], "x": refund_word(o, lang) if o["refund_status"] else ""}


def b_order_status(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    o = find_order(r, w, lang, sc)
    if isinstance(o, Reply):
        return o
    facts = _order_facts(o, lang)
    head = say(r, "status", lang, **facts)
    tail = say(r, f"status.{o['status']}", lang, **facts)
    required = [facts["o"], facts["s"], *(facts[k] for k in _STATUS_TAIL_FACTS.get(o["status"], ()))]
    return Reply(head + tail, required, [])


def _gated(r: random.Random, w: World, lang: str, sc: Scene, what: str) -> Reply:
    """cancel / change / change_address: allowed before shipping, else refused with the note's reason."""
    o = find_order(r, w, lang, sc)
    if isinstance(o, Reply):
        return o
    verb, allowed_note, refused_note = GATED[lang][what]
    if o["status"] in CANCELLABLE:
        sc.note = allowed_note
        extra = say(r, "gated.refund", lang, m=total(o)) if what == "cancel" else ""
        return Reply(say(r, "gated.allowed", lang, o=o["id"], v=verb, x=extra), [o["id"]],
                     [m.format(v=verb) for m in GATED_MARKERS[lang]])
    why = REFUSAL_REASON[lang][o["status"]]
    sc.note = refused_note.format(why=why)
    return Reply(say(r, "gated.refused", lang, o=o["id"], v=verb, why=why), [o["id"], why], [])


def b_cancel(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    return _gated(r, w, lang, sc, "cancel")


def b_change(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    return _gated(r, w, lang, sc, "change")


def b_address(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    return _gated(r, w, lang, sc, "address")


def b_refund(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    if r.random() < 0.25:
        return _policy_reply(r, w, lang, sc, Intent.REFUND_STATUS, False)
    o = find_order(r, w, lang, sc, statuses=("refunded", "refunded", "delivered", "cancelled"))
    if isinstance(o, Reply):
        return o
    if o["status"] == "cancelled" and r.random() < 0.7:
        o["refund_status"] = r.choice(tuple(REFUND_ZH))
    if not o.get("refund_status"):
        return canned(r, "no_refund", lang, (o["id"],), o=o["id"], s=status_word(o, lang))
    if r.random() < 0.3:
        sc.policy = w.policy("refunds", lang)
    x = refund_word(o, lang)
    return canned(r, "refund", lang, (o["id"], x, total(o)), o=o["id"], x=x, m=total(o))


def b_shipping(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    if r.random() < 0.45:
        return _policy_reply(r, w, lang, sc, Intent.SHIPPING_INFO, False)
    o = find_order(r, w, lang, sc, statuses=("shipped", "shipped", "paid"))
    if isinstance(o, Reply):
        return o
    if o["status"] == "paid":
        return canned(r, "not_shipped", lang, (o["id"],), o=o["id"])
    t, e = o["tracking_number"], o["eta"]
    return canned(r, "tracking", lang, (t, e), o=o["id"], c=o["carrier"], t=t, e=e)


def b_complaint(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    if r.random() < 0.6:
        o = _attach_order(r, w, sc, ("delivered", "shipped"), named=0.8)
        return canned(r, "complaint.order", lang, (o["id"],), o=o["id"])
    return canned(r, Intent.COMPLAINT, lang)


# ------------------------------------------------------------------ policies


def _policy_reply(r: random.Random, w: World, lang: str, sc: Scene, intent: str, with_order: bool) -> Reply:
    """The policy's first sentence, opened by the order the shopper named (when there is one)."""
    pol = w.policy(POLICY_TOPIC[intent], lang)
    sc.policy = pol
    sent = first_sentence(clip_sentences(pol, POLICY_CHARS[lang]))
    order = None
    if with_order and r.random() < 0.5:
        order = _attach_order(r, w, sc, ("delivered", "delivered", "shipped", "paid"), named=0.7)
    lead = POLICY_LEAD[intent][lang]
    if order is not None and lead:
        head, req = lead.format(o=order["id"]), [order["id"], sent]
    else:
        head, req = r.choice(POLICY_OPENING[intent][lang]), [sent]
    return Reply((head + sent) if lang == "zh" else f"{head} {sent}", req, [])


def b_return(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    return _policy_reply(r, w, lang, sc, Intent.RETURN_REQUEST, True)


def b_payment(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    return _policy_reply(r, w, lang, sc, Intent.PAYMENT_ISSUE, True)


def b_coupon(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    return _policy_reply(r, w, lang, sc, Intent.COUPON, False)


def b_account(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    return _policy_reply(r, w, lang, sc, Intent.ACCOUNT_HELP, False)


# ------------------------------------------------------------------ products


def _products(w: World, sc: Scene, n: int) -> list[dict[str, Any]]:
    sc.products = [w.product() for _ in range(n)]
    return sc.products


def b_search(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    if r.random() < 0.08:
        sc.products = []
        sc.note = NOTES["no_products"][lang]
        return canned(r, "no_products", lang)
    req: list[str] = []
    bits = []
    for p in _products(w, sc, r.choice((1, 2, 3, 3))):
        t = product_title(p, lang)
        bits.append(say(r, "search.item", lang, t=t, m=money(p)))
        req += [t, money(p)]
    return Reply(say(r, "search", lang, x=("、" if lang == "zh" else "; ").join(bits)), req, [])


def b_question(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    (p,) = _products(w, sc, 1)
    t = product_title(p, lang)
    if lang == "zh":
        p["description"] = p["description_zh"]
    d = p["description"]
    return canned(r, "question", lang, (t, d), t=t, d=d, m=money(p))


def b_recommend(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    a, b = _products(w, sc, r.choice((2, 3)))[:2]
    ta, tb = product_title(a, lang), product_title(b, lang)
    return canned(r, "recommend", lang, (ta, money(a), tb), a=ta, b=tb, m=money(a))


def b_price(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    (p,) = _products(w, sc, 1)
    t, m = product_title(p, lang), money(p)
    return canned(r, "price", lang, (t, m), t=t, m=m)


def b_stock(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
    (p,) = _products(w, sc, 1)
    t, n = product_title(p, lang), int(p["stock"])
    if n <= 0:
        return canned(r, "out_of_stock", lang, (t,), t=t)
    return canned(r, "in_stock", lang, (t, str(n)), t=t, n=n)


# ------------------------------------------------------------------ fact-free


def _fact_free(key: str) -> Builder:
    def build(r: random.Random, w: World, lang: str, sc: Scene) -> Reply:
        return canned(r, key, lang)

    build.__name__ = f"b_{key}"
    return build


_I = Intent
BUILDERS: dict[str, Builder] = {
    _I.GREETING: _fact_free(_I.GREETING),
    _I.GOODBYE: _fact_free(_I.GOODBYE),
    _I.THANKS: _fact_free(_I.THANKS),
    _I.ORDER_STATUS: b_order_status,
    _I.CANCEL_ORDER: b_cancel,
    _I.CHANGE_ORDER: b_change,
    _I.RETURN_REQUEST: b_return,
    _I.REFUND_STATUS: b_refund,
    _I.SHIPPING_INFO: b_shipping,
    _I.CHANGE_ADDRESS: b_address,
    _I.PAYMENT_ISSUE: b_payment,
    _I.PRODUCT_SEARCH: b_search,
    _I.PRODUCT_QUESTION: b_question,
    _I.RECOMMENDATION: b_recommend,
    _I.PRICE_QUESTION: b_price,
    _I.STOCK_AVAILABILITY: b_stock,
    _I.COUPON: b_coupon,
    _I.COMPLAINT: b_complaint,
    _I.HUMAN_AGENT: _fact_free(_I.HUMAN_AGENT),
    _I.ACCOUNT_HELP: b_account,
    _I.OUT_OF_SCOPE: _fact_free(_I.OUT_OF_SCOPE),
}
