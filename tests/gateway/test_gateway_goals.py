"""The issue's faulty-jacket conversation through the gateway, in English and its Chinese twin:
a broken zipper is a return (not a jacket search); the order number continues it; after the
shopper proves the order is theirs, the bot states the delivery date, that it is inside the
return window (computed from the shop's rules), that return shipping is free because the item is
faulty, and the next step; a yes opens the return. "never mind" / "算了" drops the goal, and a
frustrated shopper is offered a person. The orders are this module's own (KF87xxxx), delivered
five days ago so the window is open whatever day the tests run."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.orders.importer import import_orders
from kefu.db import Order, session_factory
from kefu.vocab import is_zh


def _jacket(oid: str) -> dict:
    today = date.today()
    created = (today - timedelta(days=12)).isoformat() + "T10:00:00Z"
    return {"id": oid, "email": f"{oid.lower()}@example.com", "phone": "+1 555-010-0087", "postcode": "53703",
            "status": "delivered", "total": 129.0, "currency": "USD", "carrier": "UPS",
            "items": [{"product_id": "P00001", "title": "Summit Trail Jacket", "qty": 1, "price": 129.0}],
            "tracking_number": f"1Z{oid[2:]}TRK0087", "shipping_address": "Ada Test, 5 Lake St, Madison, WI 53703",
            "created_at": created, "shipped_at": created, "delivered_at": (today - timedelta(days=5)).isoformat()
            + "T12:00:00Z"}


ORDERS = {"en": _jacket("KF870001"), "zh": _jacket("KF870002"), "drop": _jacket("KF870003")}
DELIVERED = (date.today() - timedelta(days=5)).isoformat()
DEADLINE = (date.today() - timedelta(days=5) + timedelta(days=30)).isoformat()


@pytest.fixture(scope="module")
def orders(backend) -> dict[str, dict]:
    path = Path(backend.logs) / "orders-goals.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in ORDERS.values()))
    report = import_orders(f"sqlite:///{backend.data_dir / 'kefu.db'}", path)
    assert report.written == len(ORDERS) and not report.rejected
    return ORDERS


def _refund_status(backend, oid: str) -> str | None:
    with session_factory(f"sqlite:///{backend.data_dir / 'kefu.db'}")() as s:
        return s.execute(select(Order.refund_status).where(Order.id == oid)).scalar()


def _goal(gateway, c, cid: str) -> dict | None:
    ev = c.get(f"/v1/agent/conversations/{cid}", headers=gateway.agent_headers).json()
    return ev["messages"][-1]["evidence"]["goal"]


SCRIPT = {
    "en": ("the zipper on my new jacket broke, what can I do?", "it's order {oid}", "my email is {email}",
           "yes please"),
    "zh": ("我新买的夹克拉链坏了，怎么办？", "订单号是 {oid}", "我的邮箱是 {email}", "是的"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_faulty_jacket_is_a_return_that_spans_turns(gateway, orders, backend, lang: str) -> None:
    o = orders[lang]
    first, second, third, yes = SCRIPT[lang]
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, first)
        text = r["reply"]["text"]
        assert r["intent"].get("serves", r["intent"]["name"]) == "return_request" and not r["products"], r
        assert ("订单号" if lang == "zh" else "order number") in text, text
        goal = _goal(gateway, c, cid)
        assert (goal["intent"], goal["step"], goal["order_id"], goal["params"]["reason"]) == \
            ("return_request", "order_id", None, "faulty"), goal

        r = gateway.say(c, cid, auth, second.format(oid=o["id"]))
        text = r["reply"]["text"]
        assert o["id"] in text and ("邮箱" if lang == "zh" else "email") in text, text
        assert DELIVERED not in text and "Summit" not in text  # nothing of the order before verification
        goal = _goal(gateway, c, cid)
        assert goal["intent"] == "return_request" and goal["step"] == "verify" and goal["params"]["reason"] == "faulty"

        r = gateway.say(c, cid, auth, third.format(email=o["email"]))
        text = r["reply"]["text"]
        assert DELIVERED in text and DEADLINE in text, text
        if lang == "zh":
            assert is_zh(text) and "30 天退货期内" in text and "退货运费由我们承担" in text, text
            assert "确认申请退货吗" in text, text
        else:
            assert "inside our 30-day return window" in text and "Because the item is faulty, return shipping is free" \
                in text and "Shall I start the return?" in text, text
        assert _refund_status(backend, o["id"]) is None

        r = gateway.say(c, cid, auth, yes)
        assert _refund_status(backend, o["id"]) == "return_requested", r["reply"]
        assert _goal(gateway, c, cid) is None


@pytest.mark.parametrize(("drop", "lang"), [("never mind", "en"), ("算了", "zh")])
def test_never_mind_drops_the_return(gateway, orders, drop: str, lang: str) -> None:
    first = SCRIPT[lang][0]
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        gateway.say(c, cid, auth, first)
        assert _goal(gateway, c, cid)["intent"] == "return_request"
        r = gateway.say(c, cid, auth, drop)
        assert ("stopped the return" if lang == "en" else "退货先不办了") in r["reply"]["text"], r["reply"]
        assert _goal(gateway, c, cid) is None
        r = gateway.say(c, cid, auth, ORDERS["drop"]["id"])  # no goal any more: a plain order question
        assert r["intent"].get("serves", r["intent"]["name"]) != "return_request" or "Shall I" not in r["reply"]["text"]


def test_a_frustrated_shopper_gets_an_apology_and_a_person(gateway, orders) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, "worst experience ever, had to cancel my order because it never came!!")
        text = r["reply"]["text"]
        assert "sorry" in text.lower() and "person" in text and r["handoff"] is True, r
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, "thanks, great service!")
        assert r["handoff"] is False and r["status"] == "bot", r
