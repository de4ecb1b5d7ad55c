"""The shopper and agent flows through a real gateway process and real services."""

from __future__ import annotations

import json
import threading
import time

import httpx
from sqlalchemy import func, select

from kefu.db import Order, Product, session_factory


def _db(backend) -> str:
    return f"sqlite:///{backend.data_dir / 'kefu.db'}"


def _order(backend, status: str) -> Order:
    with session_factory(_db(backend))() as s:
        return s.execute(select(Order).where(Order.status == status).order_by(Order.id)).scalars().first()


def read_sse(resp: httpx.Response) -> list[tuple[str, object]]:
    events, name = [], None
    for line in resp.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line[5:])))
            if name in ("done", "error"):
                break
    return events


def test_three_turn_conversation_real_order_and_products(gateway, backend) -> None:
    shipped = _order(backend, "shipped")
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r1 = c.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=auth)
        assert r1.status_code == 200, r1.text
        b1 = r1.json()
        assert b1["intent"].get("serves", b1["intent"]["name"]) == "greeting" and b1["reply"]["text"]
        assert b1["degraded"] == [] and b1["handoff"] is False

        r2 = gateway.say_verified(c, cid, auth, f"where is my order {shipped.id}?", shipped.email)
        assert r2["intent"].get("serves", r2["intent"]["name"]) in ("order_status", "account_help")
        assert r2["intent"]["stage"] in ("fasttext", "rerank")
        text = r2["reply"]["text"]
        assert shipped.id in text and "shipped" in text
        assert shipped.tracking_number in text and shipped.carrier in text

        r3 = c.post(f"/v1/conversations/{cid}/messages", json={"text": "show me running shoes under 100"},
                    headers=auth).json()
        assert r3["intent"].get("serves", r3["intent"]["name"]) in ("product_search", "recommendation")
        assert r3["products"], r3
        with session_factory(_db(backend))() as s:
            for p in r3["products"]:
                row = s.get(Product, p["id"])
                assert row is not None and row.title == p["title"]
                assert row.price == p["price"] and p["price"] <= 100
                assert "score" in p
        assert r3["products"][0]["title"] in r3["reply"]["text"]

        # a follow-up about a shown product: read by id from the catalog, priced from it
        second = r3["products"][1]
        r4 = c.post(f"/v1/conversations/{cid}/messages", json={"text": "how much is the second one?"},
                    headers=auth).json()
        assert r4["intent"].get("serves", r4["intent"]["name"]) in ("price_question", "product_question"), r4["intent"]
        assert r4["products"][0]["id"] == second["id"]
        assert f"{second['price']:.2f}" in r4["reply"]["text"]
        ev = c.get(f"/v1/agent/conversations/{cid}", headers=gateway.agent_headers).json()
        assert ev["messages"][-1]["evidence"]["products"][0]["id"] == second["id"]

        tr = c.get(f"/v1/conversations/{cid}/messages", headers=auth).json()["messages"]
        assert [m["role"] for m in tr] == ["user", "bot"] * 5
        assert tr[0]["text"] == "hi" and tr[5]["text"] == r2["reply"]["text"]


def test_streaming_turn_events(gateway, backend) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        with c.stream("POST", f"/v1/conversations/{cid}/messages", json={"text": "show me running shoes"},
                      headers={**auth, "Accept": "text/event-stream"}) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            events = read_sse(resp)
    names = [n for n, _ in events]
    assert names[0] == "intent" and names[1] == "products" and names[-1] == "done"
    assert "token" in names
    done = events[-1][1]
    streamed = "".join(d["text"] for n, d in events if n == "token")
    assert streamed.strip() == done["reply"]["text"].strip()
    assert done["products"] and events[1][1]["products"] == done["products"]


def test_chinese_turn_and_cancel_rules(gateway, backend) -> None:
    paid = _order(backend, "paid")
    delivered = _order(backend, "delivered")
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = gateway.say_verified(c, cid, auth, f"我的订单 {delivered.id} 到哪了", delivered.email)
        assert r["reply"]["lang"] == "zh" and delivered.id in r["reply"]["text"] and "签收" in r["reply"]["text"]
        r = gateway.say(c, cid, auth, f"please cancel order {delivered.id}")  # verified above
        assert r["intent"].get("serves", r["intent"]["name"]) == "cancel_order"
        assert "can't be cancelled" in r["reply"]["text"] and "delivered" in r["reply"]["text"]
        r = gateway.say_verified(c, cid, auth, f"please cancel order {paid.id}", paid.email)
        assert "Shall I cancel it?" in r["reply"]["text"], r
        with session_factory(_db(backend))() as s:
            assert s.get(Order, paid.id).status == "paid"  # nothing happens before the yes
        r = gateway.say(c, cid, auth, "yes, cancel it")
        assert "cancelled" in r["reply"]["text"] and paid.id in r["reply"]["text"], r
    with session_factory(_db(backend))() as s:
        assert s.get(Order, paid.id).status == "cancelled"
        assert s.get(Order, delivered.id).status == "delivered"


def test_policy_answer_quotes_policy_text(gateway) -> None:
    from kefu.data import policy_sections

    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = c.post(f"/v1/conversations/{cid}/messages", json={"text": "how long does shipping take?"},
                   headers=auth).json()
        assert r["intent"].get("serves", r["intent"]["name"]) in ("shipping_info", "delivery_time")
        first = " ".join(policy_sections("en")["shipping"].split())[:60]
        assert first in r["reply"]["text"]


def _collect_events(url: str, out: list, stop: threading.Event) -> None:
    try:
        _collect(url, out, stop)
    except httpx.HTTPError:
        pass  # the gateway stopped at the end of the session


def _collect(url: str, out: list, stop: threading.Event) -> None:
    with httpx.Client(timeout=30) as c, c.stream("GET", url) as resp:
        out.append(("status_code", resp.status_code))
        name = None
        for line in resp.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                out.append((name, json.loads(line[5:])))
            if stop.is_set():
                return


def test_takeover_agent_message_reaches_events_and_release(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        token = auth["Authorization"].split()[1]
        c.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=auth)
        shopper_events: list = []
        agent_events: list = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_collect_events, daemon=True, args=(
                f"{gateway.url}/v1/conversations/{cid}/events?token={token}", shopper_events, stop)),
            threading.Thread(target=_collect_events, daemon=True, args=(
                f"{gateway.url}/v1/agent/stream?key={gateway.agent_key}", agent_events, stop)),
        ]
        for t in threads:
            t.start()
        deadline = time.time() + 10
        while (len(shopper_events) < 2 or len(agent_events) < 2) and time.time() < deadline:
            time.sleep(0.05)  # wait for both streams' "ready" event

        ag = gateway.agent_headers
        r = c.post(f"/v1/agent/conversations/{cid}/takeover", headers=ag)
        assert r.status_code == 200 and r.json()["status"] == "human"
        r = c.post(f"/v1/conversations/{cid}/messages", json={"text": "where is my order?"}, headers=auth).json()
        assert r["reply"]["text"] == "" and r["status"] == "human" and r["reply"]["source"] == "none"
        r = c.post(f"/v1/agent/conversations/{cid}/messages", json={"text": "Hello, Sam from the shop here."},
                   headers=ag)
        assert r.status_code == 201, r.text
        deadline = time.time() + 10
        while time.time() < deadline and not any(
                n == "message" and d.get("role") == "agent" for n, d in shopper_events[1:]):
            time.sleep(0.05)
        agent_msgs = [d for n, d in shopper_events if n == "message" and isinstance(d, dict)]
        assert agent_msgs and agent_msgs[0]["text"] == "Hello, Sam from the shop here."
        assert any(n == "status" and d["status"] == "human" for n, d in shopper_events[1:])
        assert any(n == "message" and d.get("role") == "user" and d["conversation_id"] == cid
                   for n, d in agent_events[1:])

        r = c.post(f"/v1/agent/conversations/{cid}/release", headers=ag)
        assert r.json()["status"] == "bot"
        r = c.post(f"/v1/conversations/{cid}/messages", json={"text": "thanks"}, headers=auth).json()
        assert r["reply"]["text"] and r["status"] == "bot"
        stop.set()

        tr = c.get(f"/v1/conversations/{cid}/messages", headers=auth).json()["messages"]
        roles = [m["role"] for m in tr]
        assert roles == ["user", "bot", "user", "agent", "user", "bot"], tr


def test_handoff_queue_and_agent_evidence(gateway) -> None:
    ag = gateway.agent_headers
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        c.post(f"/v1/conversations/{cid}/messages", json={"text": "show me running shoes"}, headers=auth)
        r = c.post(f"/v1/conversations/{cid}/messages", json={"text": "I want to talk to a human agent"},
                   headers=auth).json()
        assert r["handoff"] is True and r["status"] == "pending_human"
        queue = c.get("/v1/agent/conversations", params={"status": "pending_human"}, headers=ag).json()
        assert cid in [x["conversation_id"] for x in queue["conversations"]]
        bots = c.get("/v1/agent/conversations", params={"status": "bot"}, headers=ag).json()["conversations"]
        assert cid not in [x["conversation_id"] for x in bots]

        d = c.get(f"/v1/agent/conversations/{cid}", headers=ag).json()
        bot_turns = [m for m in d["messages"] if m["role"] == "bot"]
        ev = bot_turns[0]["evidence"]
        assert ev["intent"].get("serves", ev["intent"]["name"]) in ("product_search", "recommendation")
        assert ev["intent"]["confidence"] is not None and ev["intent"]["stage"]
        assert ev["products"] and "score" in ev["products"][0]
        assert ev["degraded"] == []
        assert bot_turns[1]["evidence"]["handoff_reason"] == "asked_for_human"

        s = c.get(f"/v1/agent/conversations/{cid}/suggestion", headers=ag)
        assert s.status_code == 200 and s.json()["text"]
        canned = c.get("/v1/agent/canned", params={"lang": "zh"}, headers=ag).json()["responses"]
        assert canned and all(x["lang"] == "zh" for x in canned)


def test_angry_complaint_hands_off(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = c.post(f"/v1/conversations/{cid}/messages",
                   json={"text": "This is unacceptable, the worst service ever, my blender arrived broken!!"},
                   headers=auth).json()
        if r["intent"].get("serves", r["intent"]["name"]) == "complaint":
            assert r["handoff"] is True and r["status"] == "pending_human"
        else:  # the classifier's call; the rule must still not hand off non-complaints
            assert r["status"] == "bot"


def test_shop_endpoints_and_static(gateway, backend) -> None:
    with gateway.client() as c:
        cfg = c.get("/v1/shop/config").json()
        assert cfg["lang"] in ("en", "zh") and cfg["shop_name"]
        prods = c.get("/v1/shop/products", params={"limit": 5}).json()
        assert len(prods["products"]) == 5 and prods["total"] >= 5
        for path, ctype in (("/", "text/html"), ("/widget.js", "javascript"), ("/agent", "text/html")):
            r = c.get(path)
            assert r.status_code == 200 and ctype in r.headers["content-type"], path
        # product pages and the single-product route the shop's /p/<id> view calls
        first = prods["products"][0]
        page = c.get(first["url"] or f"/p/{first['id']}")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert page.text == c.get("/").text
        one = c.get(f"/v1/shop/products/{first['id']}")
        assert one.status_code == 200 and one.json()["id"] == first["id"]
        assert one.json()["title"] == first["title"] and "description" in one.json()
        missing = c.get("/v1/shop/products/P99999999")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        # every category of the whole catalog, with counts that add up to the catalog
        with session_factory(_db(backend))() as s:
            want = {cat: n for cat, n in s.execute(
                select(Product.category, func.count()).group_by(Product.category)) if cat}
        assert prods["categories"] == sorted(want)
        assert {x["name"]: x["count"] for x in prods["category_counts"]} == want
        assert sum(want.values()) == prods["total"]
        filtered = c.get("/v1/shop/products", params={"limit": 3, "category": prods["categories"][0]}).json()
        assert filtered["categories"] == prods["categories"]
        assert all(p["category"] == prods["categories"][0] for p in filtered["products"])
        r = c.get("/static/does-not-exist.css")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = c.get("/static/../app.py")
        assert r.status_code == 404
