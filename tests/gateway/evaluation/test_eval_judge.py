"""The conversation judge and placeholder filling, with plain objects."""

from __future__ import annotations

import re

from gateway.evaluation.judge import Observed, judge
from gateway.evaluation.placeholders import ShopData, fill


def obs(text: str, **body: object) -> Observed:
    return Observed({"reply": {"text": text}, "intent": {"name": body.pop("intent", "order_status")},
                     "products": body.pop("products", []), "handoff": body.pop("handoff", False)},
                    actions=list(body.pop("actions", [])))  # type: ignore[arg-type]


def test_every_present_expectation_must_hold() -> None:
    e = {"intents": ["order_status"], "reply_matches": ["shipped"], "asks_order_id": False, "handoff": False}
    assert judge(e, obs("Order KF1 has shipped.")).ok
    v = judge(e, obs("Please tell me your order number.", intent="greeting"))
    assert not v.ok and not v.harmful and {"intents", "reply_matches shipped", "asks_order_id"} <= set(v.failed)


def test_harmful_replies_and_unwanted_actions() -> None:
    e = {"no_action": True, "harmful": [r"has been cancel+ed"]}
    assert judge(e, obs("Your order has been cancelled.")).harmful
    assert judge(e, obs("I can't do that.", actions=["cancel"])).harmful
    assert judge({"action": "cancel"}, obs("Done.", actions=["cancel"])).ok
    assert judge({"action": "cancel"}, obs("Done.", actions=["address"])).harmful


def test_products_where_and_no_products() -> None:
    seen = Observed({"reply": {"text": "x"}, "products": [{"id": "P1"}]},
                    products=[{"id": "P1", "price": 80, "category": "jackets", "attributes": {"color": ["black"]}}])
    assert judge({"products_where": {"category": "jacket", "attributes.color": "black", "price_max": 100}}, seen).ok
    assert not judge({"products_where": {"attributes.color": "red"}}, seen).ok
    assert not judge({"no_products": True}, seen).ok


def test_fill_takes_distinct_orders_and_escapes_regexes() -> None:
    shop = ShopData(orders={"shipped": [{"id": "KF1", "email": "a@b.c", "tracking_number": "1Z+9"},
                                        {"id": "KF2", "email": "d@e.f", "tracking_number": "X"}]},
                    products=[("P7", {"red", "shoes"}), ("P8", {"desk"})])
    conv = {"id": "c", "turns": [{"user": "where is {order:shipped}", "expect": {
        "reply_matches": ["{order.tracking_number}"], "products_any": ["{product:red shoes}"]}}]}
    a, b = fill(conv, shop), fill(conv, shop)
    assert a.turns[0]["user"] == "where is KF1" and b.turns[0]["user"] == "where is KF2"
    assert a.turns[0]["expect"]["reply_matches"] == [re.escape("1Z+9")]
    assert a.turns[0]["expect"]["products_any"] == ["P7"]
