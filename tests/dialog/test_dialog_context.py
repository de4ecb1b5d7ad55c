"""Slots and follow-up rewrites (pure functions), English and Chinese, plus the scenario set."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.dialog import context as ctx
from services.dialog import slots as sl
from services.dialog.scenarios import evaluate, load_scenarios

INFO = {
    "A": ctx.ProductInfo("A", "Swift Trail Runner", "迅捷越野跑鞋", 129),
    "B": ctx.ProductInfo("B", "Aero Road Racer", "轻风竞速跑鞋", 95),
    "C": ctx.ProductInfo("C", "Cloud Step Jogger", "云步慢跑鞋", 79),
    "D": ctx.ProductInfo("D", "Daypack Lite", "轻便日用背包", 39),
    "E": ctx.ProductInfo("E", "Summit Hiking Pack", "峰顶登山包", 110),
}


@pytest.mark.parametrize("text, want", [
    ("where is my order KF100042?", {"order_id": "KF100042"}),
    ("kf100042 please", {"order_id": "KF100042"}),
    ("order #100042 is late", {"order_id": "KF100042"}),
    ("帮我查一下订单100042", {"order_id": "KF100042"}),
    ("it costs 100042 yen", {}),  # a bare number is not an order without the word
    ("mail me at Ana.Li@Example.com", {"email": "ana.li@example.com"}),
    ("call +1 415 555 0123", {"phone": "+14155550123"}),
    ("我的手机号是138 1234 5678", {"phone": "13812345678"}),
    ("I want 2 pairs", {"quantity": 2}),
    ("three of them please", {"quantity": 3}),
    ("来两双", {"quantity": 2}),
    ("第二个", {}),  # an ordinal, not a quantity
    ("I have a question", {}),
    ("size 10.5 please", {"size": "10.5"}),
    ("is it in stock in 42?", {"size": "42"}),
    ("do you have XL?", {"size": "XL"}),
    ("what sizes are there?", {}),
    ("有42码的吗", {"size": "42"}),
    ("要大号", {"size": "L"}),
    ("in grey", {"colour": "grey"}),
    ("有没有藏青色的", {"colour": "navy"}),
    ("under $100", {"price_max": 100}),
    ("between 50 and 80 dollars", {"price_min": 50, "price_max": 80}),
    ("over 200", {"price_min": 200}),
    ("200元以下", {"price_max": 200}),
    ("不超过300元", {"price_max": 300}),
    ("100到200元之间", {"price_min": 100, "price_max": 200}),
    ("500元以上", {"price_min": 500}),
    ("price range $20-$40", {"price_min": 20, "price_max": 40}),
])
def test_extract(text: str, want: dict) -> None:
    assert sl.extract(text) == want


def _window(*turns: tuple[str, list[str]]) -> list[ctx.WindowTurn]:
    return [ctx.WindowTurn(user=u, bot="ok", products=p) for u, p in turns]


def test_ordinal_and_pronoun_resolution_en() -> None:
    w = _window(("show me running shoes", ["A", "B", "C"]))
    slots = {"query": "running shoes"}
    r = ctx.resolve("how much is the second one?", w, slots, "product", INFO)
    assert r.standalone == "how much is Aero Road Racer?" and r.referenced_products == ["B"]
    assert r.slots == {"query": "running shoes", "product_id": "B"}
    # "it" with three products shown and nothing in focus is ambiguous, not guessed
    r2 = ctx.resolve("is it waterproof?", w, slots, "product", INFO)
    assert r2.ambiguous and not r2.rewritten
    r3 = ctx.resolve("is it in stock in 42?", w + _window(("the second", [])), r.slots, "product", INFO)
    assert r3.standalone == "is Aero Road Racer in stock in 42?" and r3.slots["size"] == "42"
    r4 = ctx.resolve("any cheaper?", w, r3.slots, "product", INFO)
    assert r4.standalone == "running shoes under 95" and r4.slots["price_max"] == 95
    assert "product_id" not in r4.slots and r4.slots["size"] == "42"


def test_ordinal_points_into_the_most_relevant_list() -> None:
    w = _window(("show me backpacks", ["D", "E"]), ("show me running shoes", ["A", "B", "C"]),
                ("tell me about the first one", ["A"]))
    r = ctx.resolve("the second backpack, is it light?", w, {}, "product", INFO)
    assert r.referenced_products == ["E"]
    r = ctx.resolve("and the third one?", w, {}, "product", INFO)  # needs a list of 3+
    assert r.referenced_products == ["C"]


def test_chinese_followups() -> None:
    w = _window(("有没有跑步鞋", ["A", "B", "C"]))
    r = ctx.resolve("第二个多少钱？", w, {"query": "跑步鞋"}, "product", INFO)
    assert r.standalone == "轻风竞速跑鞋多少钱？" and r.slots["product_id"] == "B"
    r2 = ctx.resolve("这个有42码的吗", w, r.slots, "product", INFO)
    assert r2.standalone == "轻风竞速跑鞋有42码的吗" and r2.slots["size"] == "42"
    r3 = ctx.resolve("有便宜一点的吗？", w, r2.slots, "product", INFO)
    assert r3.standalone == "跑步鞋 95元以下"
    r4 = ctx.resolve("红色的呢？", w, r3.slots, "product", INFO)
    assert ctx.normalise(r4.standalone) == "跑步鞋红色" and r4.slots["colour"] == "red"


def test_order_followups_and_topic_change() -> None:
    r = ctx.resolve("where is my order KF100042?", [], {"email": "a@b.co"}, None, INFO)
    assert r.topic == "order" and not r.topic_changed and not r.rewritten
    w = _window(("where is my order KF100042?", []))
    r2 = ctx.resolve("when will it arrive?", w, r.slots, "order", INFO)
    assert r2.standalone == "when will order KF100042 arrive?"
    r3 = ctx.resolve("what's the tracking number?", w, r.slots, "order", INFO)
    assert r3.standalone == "what's the tracking number for order KF100042?"
    r4 = ctx.resolve("show me running shoes under 100", w, r.slots, "order", INFO)
    assert r4.topic_changed and r4.slots == {"email": "a@b.co", "query": "running shoes", "price_max": 100}
    r5 = ctx.resolve("show me backpacks", w, r4.slots, "product", INFO)
    assert r5.topic_changed and r5.slots == {"email": "a@b.co", "query": "backpacks"}
    r6 = ctx.resolve("show me trail running shoes", w, r4.slots, "product", INFO)
    assert not r6.topic_changed and r6.slots["price_max"] == 100  # a refinement keeps the budget


def test_scenario_set_meets_target() -> None:
    path = Path(__file__).resolve().parents[2] / "services/dialog/scenarios.jsonl"
    convs = load_scenarios(path)
    assert len(convs) >= 100 and {c["lang"] for c in convs} == {"en", "zh"}
    res = evaluate(convs)
    assert res["slot_accuracy"] >= 0.95, res["failures"][:5]
    assert res["rewrite_accuracy"] >= 0.95, res["failures"][:5]
