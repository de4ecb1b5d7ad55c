# ruff: noqa: E501  (hand-written phrase tables read better unwrapped)
"""Writes bench/dialog/scenarios_handwritten.jsonl: a held-out set of conversations written by
hand, phrased unlike the generator's pools, with expectations by meaning. It was written before
the resolver was run on it; its first score is recorded in RESULTS.md, not tuned towards.

    python bench/dialog/make_handwritten.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_scenarios import PRODUCTS

OUT = Path(__file__).with_name("scenarios_handwritten.jsonl")


def T(user, standalone=None, slots=None, shown=(), changed=False, refs=()):
    return {"user": user, "bot": "ok", "products": list(shown),
            "expect": {"slots": slots or {}, "standalone": standalone or user, "topic_changed": changed,
                       "referenced_products": list(refs)}}


SHOES = ["S0101", "S0102", "S0103"]
PACKS = ["S0201", "S0202", "S0203"]
PHONES = ["S0301", "S0302", "S0303"]
JACK = ["S0401", "S0402", "S0403"]

CONVS = [
    ("en", [T("Hello! I'm after some trail running shoes", None, {"query": "trail running shoes"}, SHOES),
            T("ooh the 2nd one looks nice. price?", "ooh Aero Road Racer looks nice. price?",
              {"query": "trail running shoes", "product_id": "S0102"}, refs=["S0102"]),
            T("do you have it in size 44?", "do you have Aero Road Racer in size 44?",
              {"query": "trail running shoes", "product_id": "S0102", "size": "44"}, refs=["S0102"])]),
    ("en", [T("looking for a hiking backpack under 120 bucks", None, {"query": "hiking backpack", "price_max": 120},
              PACKS),
            T("what's the difference between the first and the second one?",
              "what's the difference between Summit 30L Hiking Pack and the second one?",
              {"query": "hiking backpack", "price_max": 120, "product_id": "S0201"}, refs=["S0201"]),
            T("anything cheaper?", "hiking backpack under 110", {"query": "hiking backpack", "price_max": 110})]),
    ("en", [T("hi there", None, {}),
            T("where's my package? order KF100123", None, {"order_id": "KF100123"}),
            T("it was supposed to arrive monday", "order KF100123 was supposed to arrive monday",
              {"order_id": "KF100123"}),
            T("my email is jo@example.com if you need it", None, {"order_id": "KF100123", "email": "jo@example.com"})]),
    ("en", [T("I want to cancel order 100077", None, {"order_id": "KF100077"}),
            T("actually nevermind. show me wireless headphones", None, {"query": "wireless headphones"}, PHONES,
              changed=True),
            T("is the third one any good?", "is Bass Lite Earbuds any good?",
              {"query": "wireless headphones", "product_id": "S0303"}, refs=["S0303"])]),
    ("en", [T("do you sell rain jackets?", None, {"query": "rain jackets"}, JACK),
            T("how about in navy?", "rain jackets in navy", {"query": "rain jackets", "colour": "navy"}, JACK),
            T("and size L?", "rain jackets size L", {"query": "rain jackets", "colour": "navy", "size": "L"}, JACK),
            T("I'll take the first one, 2 of them", "I'll take Storm Shell Jacket, 2 of them",
              {"query": "rain jackets", "colour": "navy", "size": "L", "product_id": "S0401", "quantity": 2},
              refs=["S0401"])]),
    ("en", [T("show me running shoes between $60 and $130", None,
              {"query": "running shoes", "price_min": 60, "price_max": 130}, SHOES),
            T("something more expensive?", "running shoes over 129", {"query": "running shoes", "price_min": 129}),
            T("thanks, bye", None, {"query": "running shoes", "price_min": 129})]),
    ("en", [T("has order kf100200 shipped?", None, {"order_id": "KF100200"}),
            T("can you give me the tracking number", "can you give me the tracking number for order KF100200",
              {"order_id": "KF100200"}),
            T("and what about KF100201?", None, {"order_id": "KF100201"})]),
    ("en", [T("I need a backpack for my laptop", None, {"query": "backpack for my laptop"}, PACKS),
            T("is that one waterproof?", None, {"query": "backpack for my laptop"}),
            T("the last one I mean", "Daypack Lite I mean",
              {"query": "backpack for my laptop", "product_id": "S0203"}, refs=["S0203"])]),
    ("en", [T("recommend me some earbuds under $150", None, {"query": "earbuds", "price_max": 150}, PHONES),
            T("what colours does the second one come in?", "what colours does PulseBuds Pro come in?",
              {"query": "earbuds", "price_max": 150, "product_id": "S0302"}, refs=["S0302"]),
            T("can I return it if I don't like it?", "can I return PulseBuds Pro if I don't like it?",
              {"query": "earbuds", "price_max": 150, "product_id": "S0302"}, refs=["S0302"])]),
    ("en", [T("my phone is 415-555-0100, order KF100010 never came", None,
              {"phone": "4155550100", "order_id": "KF100010"}),
            T("I'd like a refund", "I'd like a refund for order KF100010",
              {"phone": "4155550100", "order_id": "KF100010"})]),
    ("zh", [T("你好，我想买一双跑步鞋", None, {"query": "跑步鞋"}, SHOES),
            T("第二双多少钱", "轻风竞速跑鞋多少钱", {"query": "跑步鞋", "product_id": "S0102"}, refs=["S0102"]),
            T("有43码吗", "轻风竞速跑鞋有43码吗", {"query": "跑步鞋", "product_id": "S0102", "size": "43"}, refs=["S0102"])]),
    ("zh", [T("有没有适合登山的背包？", None, {"query": "适合登山的背包"}, PACKS),
            T("太贵了，有没有便宜点的", "适合登山的背包 39元以下", {"query": "适合登山的背包", "price_max": 39}),
            T("黑色的呢", "适合登山的背包 黑色", {"query": "适合登山的背包", "price_max": 39, "colour": "black"})]),
    ("zh", [T("我的订单KF100066怎么还没到", None, {"order_id": "KF100066"}),
            T("它现在在哪里", "订单KF100066现在在哪里", {"order_id": "KF100066"}),
            T("我的电话是13900001111", None, {"order_id": "KF100066", "phone": "13900001111"})]),
    ("zh", [T("推荐几款降噪耳机", None, {"query": "降噪耳机"}, PHONES),
            T("第一个有白色的吗", "录音室降噪耳机有白色的吗", {"query": "降噪耳机", "product_id": "S0301", "colour": "white"},
              refs=["S0301"]),
            T("我要买两个", None, {"query": "降噪耳机", "product_id": "S0301", "colour": "white", "quantity": 2})]),
    ("zh", [T("帮我查下订单100088", None, {"order_id": "KF100088"}),
            T("算了，给我看看冲锋衣", None, {"query": "冲锋衣"}, JACK, changed=True),
            T("最后一个怎么样", "经典防风夹克怎么样", {"query": "冲锋衣", "product_id": "S0403"}, refs=["S0403"])]),
    ("zh", [T("我想要夹克，100到200元之间", None, {"query": "夹克", "price_min": 100, "price_max": 200}, JACK[:2]),
            T("有更便宜的吗", "夹克 159元以下", {"query": "夹克", "price_max": 159}),
            T("L号的呢", "夹克 L码", {"query": "夹克", "price_max": 159, "size": "L"})]),
    ("zh", [T("订单KF100150可以退款吗", None, {"order_id": "KF100150"}),
            T("退款多久到账", "订单KF100150 退款多久到账", {"order_id": "KF100150"}),
            T("谢谢", None, {"order_id": "KF100150"})]),
    ("zh", [T("我在找跑鞋，预算80元以内", None, {"query": "跑鞋", "price_max": 80}, ["S0103", "S0104"]),
            T("第二个有灰色的吗", "都市休闲板鞋有灰色的吗",
              {"query": "跑鞋", "price_max": 80, "product_id": "S0104", "colour": "grey"}, refs=["S0104"])]),
    ("zh", [T("我的邮箱是wang@example.cn，订单KF100099", None, {"email": "wang@example.cn", "order_id": "KF100099"}),
            T("能改地址吗", None, {"email": "wang@example.cn", "order_id": "KF100099"}),
            T("那取消它吧", "那取消订单KF100099吧", {"email": "wang@example.cn", "order_id": "KF100099"})]),
    ("zh", [T("有没有蓝色的背包", None, {"query": "蓝色的背包", "colour": "blue"}, PACKS),
            T("第三个呢", "轻便日用背包呢", {"query": "蓝色的背包", "colour": "blue", "product_id": "S0203"}, refs=["S0203"]),
            T("这个能装15寸电脑吗", "轻便日用背包能装15寸电脑吗",
              {"query": "蓝色的背包", "colour": "blue", "product_id": "S0203"}, refs=["S0203"])]),
]


def main() -> None:
    with open(OUT, "w", encoding="utf-8") as f:
        for i, (lang, turns) in enumerate(CONVS, 1):
            pids = sorted({p for t in turns for p in t["products"]} |
                          {r for t in turns for r in t["expect"]["referenced_products"]})
            f.write(json.dumps({"id": f"hw-{lang}-{i:02d}", "lang": lang, "products": {
                p: {k: PRODUCTS[p][k] for k in ("title", "title_zh", "price")} for p in pids}, "turns": turns},
                ensure_ascii=False) + "\n")
    print(json.dumps({"conversations": len(CONVS), "turns": sum(len(t) for _, t in CONVS), "out": str(OUT)}))


if __name__ == "__main__":
    main()
