"""Orders through the gateway, as a shopper meets them: no fact of an order before the shopper
proves it is theirs (EN and ZH, JSON and SSE, and nothing in the LLM prompt), a lock after ten
wrong factors, an action only after an explicit yes and only once, replies that match the order
read back from the order system, and a shop-signed identity. The orders are this module's own
(KF8xxxxx). Every test runs against each order adapter: the built-in SQL table, the webhook
adapter against the example order API (examples/orders_api/server.py) and the Shopify adapter
against a local fake of Shopify's GraphQL Admin API — each a real process."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from gateway.orders.importer import import_orders
from gateway.orders.verify import sign_identity
from kefu.db import Order, OrderAction, session_factory
from kefu.vocab import REFUND_EN, is_zh
from tests.conftest import Proc, free_port, spawn, wait_ready

SECRET = "shop-secret-for-tests"


def _order(oid: str, status: str, **kw: object) -> dict:
    today = date.today()
    base = {"id": oid, "email": f"{oid.lower()}@example.com", "phone": "+1 555-010-0000", "postcode": "53794",
            "status": status, "items": [{"product_id": "P00001", "title": "Pacer Glide Women's Running Shoes",
                                         "qty": 1, "price": 99.99}],
            "total": 99.99, "currency": "USD", "shipping_address": "Ada Test, 1 Main St, Madison, WI 53794",
            "created_at": (today - timedelta(days=20)).isoformat() + "T10:00:00Z"}
    if status in ("shipped", "delivered"):
        base.update(carrier="UPS", tracking_number=f"1Z{oid[2:]}TRK0099", shipped_at=base["created_at"])
    if status == "delivered":
        base["delivered_at"] = (today - timedelta(days=5)).isoformat() + "T12:00:00Z"
    base.update(kw)
    return base


ORDERS = {
    "shipped": _order("KF800001", "shipped", total=123.45),
    "paid": _order("KF800002", "paid"), "paid2": _order("KF800003", "paid"), "paid3": _order("KF800004", "paid"),
    "paid4": _order("KF800005", "paid"), "delivered": _order("KF800006", "delivered"),
    "lockme": _order("KF800007", "shipped"), "paid5": _order("KF800008", "paid"),
    "zh": _order("KF800009", "shipped", total=88.8),
}


ROOT = Path(__file__).resolve().parents[2]
TOKEN = "orders-api-token"


@pytest.fixture(scope="module")
def orders(backend) -> dict[str, dict]:
    path = Path(backend.logs) / "orders-test.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in ORDERS.values()))
    report = import_orders(f"sqlite:///{backend.data_dir / 'kefu.db'}", path)
    assert report.written == len(ORDERS) and not report.rejected
    return ORDERS


class Reader:
    """The order system's view of an order, whichever adapter the gateway uses."""

    def __init__(self, kind: str, backend, url: str = "") -> None:
        self.kind, self.backend, self.url = kind, backend, url

    def order(self, oid: str) -> dict:
        if self.kind == "sql":
            with session_factory(_db(self.backend))() as s:
                o = s.get(Order, oid)
                return {"status": o.status, "refund_status": o.refund_status, "shipping_address": o.shipping_address}
        if self.kind == "webhook":
            return httpx.get(f"{self.url}/orders/{oid}", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        from gateway.orders.shopify import record_of

        node = httpx.get(f"{self.url}/_state/{oid}").json()["order"]
        rec = record_of(node)
        return {**rec.facts, "shipping_address": node["shippingAddress"]["address1"]}

    def actions(self, oid: str) -> int:
        """Actions the order system took on the order (Shopify: mutations the store received)."""
        if self.kind == "webhook":
            return len(self.order(oid).get("actions", []))
        if self.kind == "shopify":
            return sum(c == "KefuCancel" for c in httpx.get(f"{self.url}/_state/{oid}").json()["calls"])
        with session_factory(_db(self.backend))() as s:
            return s.execute(select(func.count()).select_from(OrderAction).where(OrderAction.order_id == oid)).scalar()


def _serve(name: str, cmd: list[str], logs: Path, health: str) -> Proc:
    port = free_port()
    cmd = [c.replace("PORT", str(port)) for c in cmd]
    p = Proc(name, port, spawn(cmd, dict(os.environ), logs / f"{name}-{port}.log"), logs / f"{name}-{port}.log",
             cmd, dict(os.environ))
    wait_ready(p, health, 60)
    return p


@pytest.fixture(scope="module", params=["sql", "webhook", "shopify"])
def source(request, backend, orders) -> Iterator[tuple[dict, Reader]]:
    """(gateway settings, reader) for one order adapter; webhook and Shopify get a server process."""
    kind = request.param
    logs, path = Path(backend.logs), str(Path(backend.logs) / "orders-test.jsonl")
    if kind == "sql":
        yield {}, Reader("sql", backend)
        return
    if kind == "webhook":
        p = _serve("orders-api", [sys.executable, str(ROOT / "examples/orders_api/server.py"), "--orders", path,
                                  "--port", "PORT", "--token", TOKEN], logs, "/healthz")
        env = {"KEFU_ORDERS": "webhook", "KEFU_ORDERS_URL": p.url, "KEFU_ORDERS_TOKEN": TOKEN}
    else:
        p = _serve("fake-shopify", [sys.executable, str(ROOT / "tests/gateway/orders/fake_shopify.py"), path, "PORT",
                                    TOKEN], logs, "/healthz")
        env = {"KEFU_ORDERS": "shopify", "KEFU_ORDERS_URL": p.url + "/admin/api/2024-10", "KEFU_ORDERS_TOKEN": TOKEN}
    try:
        yield env, Reader(kind, backend, p.url)
    finally:
        p.stop()


@pytest.fixture(scope="module")
def llm(backend, request):
    from tests.gateway.conftest import start_llm_stub

    p = start_llm_stub("good", backend.logs)
    request.addfinalizer(p.stop)
    return p


@pytest.fixture(scope="module")
def gw(gateway_factory, llm, source):
    # the per-order limit counts across conversations: the lock test runs once per adapter
    return gateway_factory(KEFU_LLM_URL=llm.url + "/v1", KEFU_IDENTITY_SECRET=SECRET,
                           KEFU_VERIFY_MAX_PER_ORDER_HOUR="1000", **source[0])


@pytest.fixture(scope="module")
def reader(source) -> Reader:
    return source[1]


def _db(backend) -> str:
    return f"sqlite:///{backend.data_dir / 'kefu.db'}"


def _facts(o: dict) -> list[str]:
    """Strings that would give away an order: status words, tracking, carrier, total, address."""
    out = [o["status"], f"{o['total']:.2f}", o["shipping_address"].split(",")[1].strip(), o["email"]]
    out += [o[k] for k in ("tracking_number", "carrier") if o.get(k)]
    out += {"shipped": ["on its way", "已发货", "物流单号"], "paid": ["waiting to ship", "已付款", "待发货"],
            "delivered": ["签收"]}.get(o["status"], [])
    return out


def _says_shipped(o: dict, text: str) -> bool:
    """The verified answer: the order and its state (the LLM stub says "is shipped", the templates
    also give the tracking number)."""
    return o["id"] in text and any(w in text for w in ("shipped", "已发货", o["tracking_number"]))


def _stream(c: httpx.Client, cid: str, auth: dict, text: str) -> tuple[str, dict]:
    with c.stream("POST", f"/v1/conversations/{cid}/messages", json={"text": text},
                  headers={**auth, "Accept": "text/event-stream"}) as resp:
        body = resp.read().decode()
    done = json.loads(body.split("event: done\ndata: ")[1].split("\n")[0])
    return body, done


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("sse", [False, True])
def test_unverified_shopper_learns_nothing_of_the_order(gw, orders, llm, lang: str, sse: bool) -> None:
    o = orders["zh" if lang == "zh" else "shipped"]
    ask = f"我的订单 {o['id']} 到哪了？物流单号和金额是多少" if lang == "zh" else \
        f"where is my order {o['id']}? what's the tracking number, total and address?"
    before = httpx.get(llm.url + "/calls").json().get("bodies", [])
    with gw.client() as c:
        cid, auth = gw.new_conversation(c)
        if sse:
            body, done = _stream(c, cid, auth, ask)
            shown = body
        else:
            done = gw.say(c, cid, auth, ask)
            shown = json.dumps(done, ensure_ascii=False)
        assert o["id"] in done["reply"]["text"]
        assert ("邮箱" if lang == "zh" else "email") in done["reply"]["text"]
        for fact in _facts(o):
            assert fact.lower() not in shown.lower(), (fact, done["reply"]["text"])
        after = httpx.get(llm.url + "/calls").json().get("bodies", [])
        prompts = json.dumps(after[len(before):], ensure_ascii=False)
        for fact in _facts(o) + [o["email"]]:
            assert fact not in prompts, fact
        ev = c.get(f"/v1/agent/conversations/{cid}", headers=gw.agent_headers).json()
        assert ev["messages"][-1]["evidence"]["verified"] is False

        r = gw.say(c, cid, auth, f"我的邮箱是 {o['email']}" if lang == "zh" else f"my email is {o['email']}")
        text = r["reply"]["text"]
        assert _says_shipped(o, text), text
        ev = c.get(f"/v1/agent/conversations/{cid}", headers=gw.agent_headers).json()
        assert ev["messages"][-1]["evidence"]["verified"] is True


def test_a_bare_email_keeps_the_chinese_of_the_conversation(gw, orders) -> None:
    """A Chinese shopper who answers the verification question with only the address (no Han
    character in it) still reads the order in Chinese."""
    o = orders["zh"]
    with gw.client() as c:
        cid, auth = gw.new_conversation(c)
        gw.say(c, cid, auth, f"我的订单 {o['id']} 到哪了？")
        r = gw.say(c, cid, auth, o["email"])
        text = r["reply"]["text"]
        assert _says_shipped(o, text) and is_zh(text), text


def test_ten_wrong_factors_lock_the_order_for_the_conversation(gw, orders) -> None:
    o = orders["lockme"]
    with gw.client() as c:
        cid, auth = gw.new_conversation(c)
        gw.say(c, cid, auth, f"where is my order {o['id']}?")
        for i in range(10):
            r = gw.say(c, cid, auth, f"my email is guess{i}@example.net")
            assert o["tracking_number"] not in r["reply"]["text"]
        r = gw.say(c, cid, auth, f"my email is {o['email']}")  # right, but too late in this conversation
        assert o["tracking_number"] not in r["reply"]["text"] and "person" in r["reply"]["text"], r["reply"]
        cid2, auth2 = gw.new_conversation(c)  # another conversation may still verify
        r = gw.say(c, cid2, auth2, f"where is my order {o['id']}? my email is {o['email']}")
        assert _says_shipped(o, r["reply"]["text"]), r["reply"]


def test_cancel_needs_an_explicit_yes_and_happens_once(gw, orders, reader) -> None:
    o = orders["paid"]
    with gw.client() as c:
        cid, auth = gw.new_conversation(c)
        r = gw.say_verified(c, cid, auth, f"please cancel order {o['id']}", o["email"])
        assert "Shall I cancel it?" in r["reply"]["text"] and "$99.99" in r["reply"]["text"], r["reply"]
        assert reader.order(o["id"])["status"] == "paid"
        url = f"/v1/conversations/{cid}/messages"
        first = c.post(url, json={"text": "yes, cancel it", "client_message_id": "yes-1"}, headers=auth).json()
        retry = c.post(url, json={"text": "yes, cancel it", "client_message_id": "yes-1"}, headers=auth).json()
        assert retry["message_id"] == first["message_id"] and retry["reply"] == first["reply"]
        again = gw.say(c, cid, auth, "yes")  # nothing pending any more: no second action
        row = reader.order(o["id"])
        assert row["status"] == "cancelled" and row["refund_status"] in ("pending", "completed")
        text = first["reply"]["text"]
        assert o["id"] in text and "cancelled" in text and REFUND_EN[row["refund_status"]] in text, text
        assert "cancelled" not in again["reply"]["text"].lower() or "Shall" not in again["reply"]["text"]
    assert reader.actions(o["id"]) == 1


def test_no_or_another_subject_drops_the_pending_action(gw, orders, reader) -> None:
    o, o2 = orders["paid2"], orders["paid3"]
    with gw.client() as c:
        cid, auth = gw.new_conversation(c)
        gw.say_verified(c, cid, auth, f"cancel {o['id']} please", o["email"])
        r = gw.say(c, cid, auth, "no")
        assert "haven't changed anything" in r["reply"]["text"], r["reply"]
        gw.say(c, cid, auth, "yes")
        assert reader.order(o["id"])["status"] == "paid"
        gw.say_verified(c, cid, auth, f"cancel order {o2['id']}", o2["email"])
        gw.say(c, cid, auth, "show me running shoes")
        gw.say(c, cid, auth, "yes")
        assert reader.order(o2["id"])["status"] == "paid"


def test_misread_request_never_cancels(gw, orders, reader) -> None:
    """The issue's real message: it once cancelled a paid order."""
    o = orders["paid4"]
    with gw.client() as c:
        cid, auth = gw.new_conversation(c)
        for text in (f"Can you expedite shipping on {o['id']}? I didn't cancel the order",
                     f"my email is {o['email']}", "thanks"):
            gw.say(c, cid, auth, text)
    assert reader.order(o["id"])["status"] == "paid"


def test_address_change_and_return_answer_from_the_order_read_back(gw, orders, reader) -> None:
    o, d = orders["paid5"], orders["delivered"]
    with gw.client() as c:
        cid, auth = gw.new_conversation(c)
        r = gw.say_verified(c, cid, auth, f"please change the address of {o['id']} to 9 Elm Road, Boise, ID 83702",
                            o["email"])
        assert "9 Elm Road, Boise, ID 83702" in r["reply"]["text"] and "yes or no" in r["reply"]["text"], r["reply"]
        r = gw.say(c, cid, auth, "yes")
        assert reader.order(o["id"])["shipping_address"] == "9 Elm Road, Boise, ID 83702"
        assert "9 Elm Road, Boise, ID 83702" in r["reply"]["text"]

        r = gw.say_verified(c, cid, auth, f"I want to return order {d['id']}, the shoes arrived damaged", d["email"])
        deadline = (date.today() - timedelta(days=5) + timedelta(days=30)).isoformat()
        text = r["reply"]["text"]
        assert deadline in text and "free" in text and "Shall I start the return?" in text, text
        r = gw.say(c, cid, auth, "yes please")
        assert reader.order(d["id"])["refund_status"] == "return_requested"
        text = r["reply"]["text"]
        assert re.search(r"reference \S+", text) and "return has been requested" in text.lower(), text


def test_signed_in_shopper_is_verified_for_their_own_orders(gw, orders) -> None:
    o, other = orders["shipped"], orders["zh"]
    with gw.client() as c:
        bad = c.post("/v1/conversations", json={"identity": {"email": o["email"], "signature": "0" * 64}})
        assert bad.status_code == 403 and bad.json()["error"]["code"] == "invalid_identity"
        r = c.post("/v1/conversations", json={"identity": {"email": o["email"],
                                                           "signature": sign_identity(SECRET, o["email"])}})
        assert r.status_code == 201
        cid, auth = r.json()["conversation_id"], {"Authorization": f"Bearer {r.json()['token']}"}
        r = gw.say(c, cid, auth, "where is my order?")
        assert _says_shipped(o, r["reply"]["text"]), r["reply"]
        r = gw.say(c, cid, auth, f"and where is order {other['id']}?")  # not theirs: still asks
        assert other["tracking_number"] not in r["reply"]["text"]
        assert c.get(f"/v1/conversations/{cid}", headers=auth).json()["signed_in"] is True
