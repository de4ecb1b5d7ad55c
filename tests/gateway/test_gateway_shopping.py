"""Conversational product search through a real gateway and real services (issue 15): the
active search survives refinements, questions about shown products are answered from their
catalog fields, comparisons resolve titles, nothing unrelated is shown, and after a Redis flush
"how much is the first one?" answers with the product that was actually shown first."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import redis
from sqlalchemy import func, select

from kefu.data import __file__ as data_init
from kefu.db import MessageRow, session_factory
from tests.conftest import Proc, free_port, kefu_env, spawn, wait_ready

CATALOG = {r["id"]: r for r in (json.loads(line) for line in
                                (Path(data_init).parent / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
                                if line.strip())}


def _cats(products: list[dict]) -> set[str]:
    return {CATALOG[p["id"]]["category"] for p in products}


def test_refinement_stays_on_jackets_and_answers_sizes(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r1 = gateway.say(c, cid, auth, "show me jackets")
        assert r1["products"] and _cats(r1["products"]) == {"jackets"}, r1
        r2 = gateway.say(c, cid, auth, "do you have a warmer one in black?")
        assert r2["products"], r2["reply"]
        assert _cats(r2["products"]) == {"jackets"}
        assert all(CATALOG[p["id"]]["attributes"]["color"] == "Black" for p in r2["products"])
        first = r2["products"][0]["id"]
        assert CATALOG[first]["title"] == "Northpeak Windline Men's Fleece Jacket"  # the warm one of the black ones
        r3 = gateway.say(c, cid, auth, "does it come in XL?")
        text = r3["reply"]["text"]
        assert [p["id"] for p in r3["products"]] == [p["id"] for p in r2["products"]][:3]
        for p in r3["products"]:  # each shown jacket's own sizes, from the catalog
            sizes = CATALOG[p["id"]]["attributes"]["sizes"]
            assert ", ".join(sizes) in text
            assert (f"Yes — {p['title']} comes in XL" in text) == ("XL" in sizes)
        r4 = gateway.say(c, cid, auth, "cheaper")
        shown_min = min(p["price"] for p in r2["products"])
        assert all(p["price"] < shown_min for p in r4["products"]) and _cats(r4["products"]) <= {"jackets"}


def test_chinese_refinement_stays_on_coats(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r1 = gateway.say(c, cid, auth, "我想买外套")
        assert r1["products"] and _cats(r1["products"]) == {"jackets"}
        r2 = gateway.say(c, cid, auth, "有黑色的吗")
        assert r2["products"] and _cats(r2["products"]) == {"jackets"}, r2["reply"]
        assert all(CATALOG[p["id"]]["attributes"]["color"] == "Black" for p in r2["products"])
        assert "黑色" in r2["reply"]["text"]
        r3 = gateway.say(c, cid, auth, "换个便宜点的")
        assert all(p["price"] < min(x["price"] for x in r2["products"]) for p in r3["products"])


def test_a_brand_stays_through_a_refinement_and_chinese_materials_read_in_chinese(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r1 = gateway.say(c, cid, auth, "show me Kestrel jackets")
        assert r1["products"] and {CATALOG[p["id"]]["brand"] for p in r1["products"]} == {"Kestrel"}, r1
        r2 = gateway.say(c, cid, auth, "in black?")
        assert r2["products"], r2["reply"]
        for p in r2["products"]:
            assert CATALOG[p["id"]]["brand"] == "Kestrel" and CATALOG[p["id"]]["attributes"]["color"] == "Black"
        cz, az = gateway.new_conversation(c)
        gateway.say(c, cz, az, "我想买外套")
        rz = gateway.say(c, cz, az, "有不是皮的吗？要紫色的")
        assert "leather" not in rz["reply"]["text"], rz["reply"]["text"]


def test_comparison_by_name_is_side_by_side(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, "what's the difference between the Pacer Glide and the Stride Rally 2?")
        ids = [p["id"] for p in r["products"]]
        assert ids == ["P00001", "P00004"], r
        text = r["reply"]["text"]
        assert "$99.99" in text and "$66.00" in text and "brown" in text and "blue" in text
        rz = gateway.say(c, cid, auth, "Pacer Glide和Stride Rally 2有什么区别？")
        assert [p["id"] for p in rz["products"]] == ["P00001", "P00004"]
        assert "棕色" in rz["reply"]["text"] and "蓝色" in rz["reply"]["text"]


def test_no_match_says_so_and_offers_the_nearest_relaxation(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        gateway.say(c, cid, auth, "show me fleece jackets")
        r = gateway.say(c, cid, auth, "in purple?")
        assert r["products"] == [], r
        text = r["reply"]["text"]
        assert text.startswith("Sorry, we have no purple fleece jackets") and "drop the colour" in text
        fleece = [p for p in CATALOG.values() if p["category"] == "jackets" and "fleece" in p["attributes"]["material"]]
        counts = Counter(p["attributes"]["color"].lower() for p in fleece)
        n = max(counts.values())  # the most common colour comes first; ties in any order
        assert any(f"{n} in {c}" in text for c, k in counts.items() if k == n), (counts, text)


def _redis_server(tmp: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    for _ in range(100):
        try:
            if r.ping():
                return p, port
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def test_first_one_after_redis_flush_is_the_product_shown_first(backend, gateway_factory, tmp_path) -> None:
    server, port = _redis_server(tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    dport = free_port()
    env = kefu_env(backend.data_dir, REDIS_URL=url, KEFU_REDIS_PREFIX=backend.prefix)
    cmd = [sys.executable, "-m", "kefu.cli", "serve", "dialog", "--port", str(dport)]
    log = backend.logs / f"dialog-own-redis-{dport}.log"
    dialog = Proc("dialog", dport, spawn(cmd, env, log), log, cmd, env)
    try:
        wait_ready(dialog, "/readyz", 120)
        gw = gateway_factory(REDIS_URL=url, KEFU_DIALOG_URL=dialog.url)
        with gw.client() as c:
            cid, auth = gw.new_conversation(c)
            shown = gw.say(c, cid, auth, "show me running shoes under 100")["products"]
            assert len(shown) >= 2
            sessions = session_factory(f"sqlite:///{backend.data_dir / 'kefu.db'}")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # the transcript writer has the turn in SQL
                with sessions() as s:
                    if s.scalar(select(func.count()).select_from(MessageRow)
                                .where(MessageRow.conversation_id == cid)) >= 2:
                        break
                time.sleep(0.2)
            redis.Redis(port=port).flushall()  # our own server, never the shared one
            r = gw.say(c, cid, auth, "how much is the first one?")
            first = shown[0]
            assert [p["id"] for p in r["products"]] == [first["id"]], r
            assert f"${first['price']:.2f}" in r["reply"]["text"] and first["title"] in r["reply"]["text"]
            for other in shown[1:]:
                assert other["title"] not in r["reply"]["text"]
        with httpx.Client(base_url=dialog.url, timeout=10) as d:
            assert d.get(f"/v1/conversations/{cid}/state").json().get("restored") in (True, None)
    finally:
        dialog.stop()
        server.terminate()
        server.wait(10)
