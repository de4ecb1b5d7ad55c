# ruff: noqa: E501  (hand-written phrase tables read better unwrapped)
"""Writes services/dialog/scenarios.jsonl: multi-turn conversations (English and Chinese) with the
expected slots and the expected standalone rewrite of every turn.

The expectations come from what each step *means* (the generator knows it showed three jackets
and that "the second one" is the second jacket, what the cheapest price shown was, which order is
being discussed), never from running the resolver, so the benchmark can fail. Phrasings are drawn
from hand-written pools so conversations differ. Deterministic (seeded).

    python bench/dialog/make_scenarios.py [--n 120] [--out services/dialog/scenarios.jsonl]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# A small catalog written for the scenarios: category -> (en query, zh query, products).
CATALOG: dict[str, dict[str, Any]] = {
    "shoes": {"en": ["running shoes", "trail running shoes", "sneakers"], "zh": ["跑步鞋", "运动鞋"],
              "items": [("Swift Trail Runner", "迅捷越野跑鞋", 129), ("Aero Road Racer", "轻风竞速跑鞋", 95),
                        ("Cloud Step Jogger", "云步慢跑鞋", 79), ("Metro Court Sneaker", "都市休闲板鞋", 59)]},
    "backpacks": {"en": ["backpacks", "laptop backpacks", "hiking backpacks"], "zh": ["背包", "双肩包"],
                  "items": [("Summit 30L Hiking Pack", "峰顶30升登山包", 110), ("Urban Laptop Backpack", "都市电脑双肩包", 69),
                            ("Daypack Lite", "轻便日用背包", 39), ("Roll-top Commuter Bag", "卷口通勤包", 85)]},
    "headphones": {"en": ["headphones", "wireless headphones", "earbuds"], "zh": ["耳机", "无线耳机"],
                   "items": [("Studio ANC Headphones", "录音室降噪耳机", 249), ("PulseBuds Pro", "脉动真无线耳机", 149),
                             ("Bass Lite Earbuds", "低音轻享耳机", 49), ("Sport Neckband", "运动颈挂耳机", 35)]},
    "jackets": {"en": ["rain jackets", "winter jackets", "jackets"], "zh": ["冲锋衣", "夹克"],
                "items": [("Storm Shell Jacket", "风暴硬壳冲锋衣", 189), ("Down Puffer Coat", "羽绒保暖外套", 159),
                          ("Windbreaker Classic", "经典防风夹克", 89), ("Packable Rain Jacket", "便携雨衣夹克", 65)]},
    "dresses": {"en": ["summer dresses", "dresses", "maxi dresses"], "zh": ["连衣裙", "长裙"],
                "items": [("Linen Maxi Dress", "亚麻长款连衣裙", 89), ("Floral Wrap Dress", "碎花裹身裙", 69),
                          ("Cotton Shirt Dress", "纯棉衬衫裙", 49), ("Silk Slip Dress", "真丝吊带裙", 129)]},
    "watches": {"en": ["smart watches", "watches", "fitness trackers"], "zh": ["手表", "智能手表"],
                "items": [("Pulse Smartwatch 5", "脉搏智能手表5", 299), ("Trail GPS Watch", "越野GPS手表", 219),
                          ("Fit Band 3", "健身手环3", 59), ("Classic Steel Watch", "经典钢带手表", 179)]},
    "bottles": {"en": ["water bottles", "insulated bottles", "bottles"], "zh": ["水杯", "保温杯"],
                "items": [("Thermo Steel Bottle 1L", "不锈钢保温瓶1升", 39), ("Glass Infuser Bottle", "玻璃泡茶杯", 25),
                          ("Kids Sippy Bottle", "儿童吸管杯", 15), ("Trail Flask 500ml", "户外水壶500毫升", 29)]},
    "tshirts": {"en": ["t-shirts", "cotton t-shirts", "tees"], "zh": ["T恤", "短袖"],
                "items": [("Organic Cotton Tee", "有机棉T恤", 29), ("Dry-Fit Running Tee", "速干跑步T恤", 35),
                          ("Heavyweight Pocket Tee", "重磅口袋T恤", 45), ("Graphic Print Tee", "印花T恤", 25)]},
}
PRODUCTS: dict[str, dict[str, Any]] = {}
for ci, (cat, spec) in enumerate(CATALOG.items()):
    ids = []
    for j, (title, zh, price) in enumerate(spec["items"]):
        pid = f"S{ci + 1:02d}{j + 1:02d}"
        PRODUCTS[pid] = {"id": pid, "title": title, "title_zh": zh, "price": price, "category": cat}
        ids.append(pid)
    spec["ids"] = ids

COLOURS = [("red", "红色"), ("black", "黑色"), ("blue", "蓝色"), ("white", "白色"), ("green", "绿色"),
           ("grey", "灰色"), ("pink", "粉色")]
ORD_EN = {1: "first", 2: "second", 3: "third"}
ORD_ZH = {1: "一", 2: "二", 3: "三"}
EMAILS = ["li.wei@example.com", "anna.k@example.org", "sam_99@mail.example.net", "chen.jing@example.cn"]
PHONES = [("+1 415 555 0123", "+14155550123"), ("13812345678", "13812345678"), ("(415) 555-0199", "4155550199"),
          ("139-1234-5678", "13912345678"), ("+44 20 7946 0958", "+442079460958")]


def fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)



def _price_filter(kind: str, prices: list[float]) -> dict[str, Any]:
    """The price slots a search of this kind sets, chosen so every product of the category fits."""
    if kind == "max":
        return {"price_max": prices[-1] + 1}
    if kind == "between":
        return {"price_min": prices[0] - 1, "price_max": prices[-1] + 10}
    if kind == "min":
        return {"price_min": prices[0] - 5}
    return {}

class Conv:
    """The generator's own model of the conversation: what was shown, what is in focus."""

    def __init__(self, lang: str, rng: random.Random) -> None:
        self.lang = lang
        self.rng = rng
        self.slots: dict[str, Any] = {}
        self.topic: str | None = None
        self.cat: str | None = None
        self.query: str | None = None
        self.shown: list[str] = []
        self.list: list[str] = []
        self.focus: str | None = None
        self.turns: list[dict[str, Any]] = []

    def name(self, pid: str) -> str:
        p = PRODUCTS[pid]
        return p["title_zh"] if self.lang == "zh" else p["title"]

    def add(self, user: str, standalone: str, shown: list[str], *, topic_changed: bool = False,
            refs: list[str] | None = None, bot: str = "") -> None:
        self.turns.append({"user": user, "bot": bot or ("好的。" if self.lang == "zh" else "Sure."),
                           "products": shown, "expect": {"slots": dict(self.slots), "standalone": standalone,
                                                         "topic_changed": topic_changed,
                                                         "referenced_products": refs or []}})
        if shown:
            self.shown = shown
        if len(shown) >= 2:
            self.list = shown

    def identity(self) -> dict[str, Any]:
        return {k: v for k, v in self.slots.items() if k in ("email", "phone")}

    # ------------------------------------------------------------------ steps
    def search(self, *, new_cat: bool = True) -> None:
        rng = self.rng
        cats = [c for c in CATALOG if c != self.cat] if new_cat else [self.cat or "shoes"]
        cat = rng.choice(cats)
        q = rng.choice(CATALOG[cat][self.lang])
        changed = self.topic is not None and (self.topic != "product" or self.cat != cat)
        base = self.identity() if changed or self.topic != "product" else {
            k: v for k, v in self.slots.items() if k not in ("product_id", "price_min", "price_max", "query")}
        items = CATALOG[cat]["ids"]
        kind = rng.choice(["none", "max", "max", "between", "min"])
        price = _price_filter(kind, sorted(PRODUCTS[i]["price"] for i in items))
        text = self._search_text_en(kind, q, price) if self.lang == "en" else self._search_text_zh(kind, q, price)
        self.slots = {**base, "query": q, **price}
        self.topic, self.cat, self.query, self.focus = "product", cat, q, None
        shown = items[:3]
        self.add(text, text, shown, topic_changed=changed)

    def _search_text_en(self, kind: str, q: str, price: dict[str, Any]) -> str:
        rng = self.rng
        if kind == "none":
            tpl = rng.choice(["show me {q}", "I'm looking for {q}", "do you have {q}?", "can you recommend some {q}?",
                              "hi, show me some {q} please", "find me {q}", "I need new {q}"])
            if tpl == "hi, show me some {q} please":
                return f"hi, show me some {q}"
            return tpl.format(q=q)
        if kind == "max":
            tpl = rng.choice(["show me {q} under ${p}", "I'm looking for {q} below {p} dollars",
                              "any {q} under {p}?", "find me {q} less than ${p}"])
            return tpl.format(q=q, p=fmt(price["price_max"]))
        if kind == "between":
            tpl = rng.choice(["show me {q} between {a} and {b} dollars", "I want {q} from ${a} to ${b}"])
            return tpl.format(q=q, a=fmt(price["price_min"]), b=fmt(price["price_max"]))
        return rng.choice(["show me {q} over ${p}", "do you have {q} above {p} dollars?"]).format(
            q=q, p=fmt(price["price_min"]))

    def _search_text_zh(self, kind: str, q: str, price: dict[str, Any]) -> str:
        rng = self.rng
        if kind == "none":
            return rng.choice(["我想买{q}", "有没有{q}？", "给我看看{q}", "推荐一下{q}", "我在找{q}"]).format(q=q)
        if kind == "max":
            return rng.choice(["有没有{q}，{p}元以下的", "推荐几款{p}元以内的{q}", "我想买{q}，不超过{p}元"]).format(
                q=q, p=fmt(price["price_max"]))
        if kind == "between":
            return rng.choice(["给我看看{q}，{a}到{b}元之间的", "我想买{q}，价格{a}-{b}元"]).format(
                q=q, a=fmt(price["price_min"]), b=fmt(price["price_max"]))
        return rng.choice(["有没有{p}元以上的{q}", "推荐{p}元以上的{q}"]).format(q=q, p=fmt(price["price_min"]))

    def ordinal(self) -> None:
        rng = self.rng
        n = rng.choice([1, 2, 2, 3, 3, -1]) if len(self.list) >= 3 else rng.choice([1, 2, -1])
        pid = self.list[-1] if n == -1 else self.list[n - 1]
        name = self.name(pid)
        qty = None
        if self.lang == "en":
            ref = "the last one" if n == -1 else f"the {ORD_EN[n]} one"
            tpl = rng.choice(["how much is {r}?", "tell me more about {r}", "is {r} in stock?", "I like {r}",
                              "does {r} come in {c}?", "I'll take 2 pairs of {r}", "what sizes does {r} come in?"])
            colour = rng.choice(COLOURS)
            text = tpl.format(r=ref, c=colour[0])
            standalone = tpl.format(r=name, c=colour[0])
            if "{c}" in tpl:
                self.slots["colour"] = colour[0]
            if "2 pairs" in tpl:
                qty = 2
        else:
            ref = "最后一个" if n == -1 else f"第{ORD_ZH[n]}个"
            colour = rng.choice(COLOURS)
            tpl = rng.choice(["{r}多少钱？", "{r}有货吗？", "{r}怎么样？", "{r}有{c}的吗？", "{r}我要两件", "介绍一下{r}"])
            text = tpl.format(r=ref, c=colour[1])
            standalone = tpl.format(r=name, c=colour[1])
            if "{c}" in tpl:
                self.slots["colour"] = colour[0]
            if "两件" in tpl:
                qty = 2
        if qty:
            self.slots["quantity"] = qty
        self.slots["product_id"] = pid
        self.focus = pid
        shown = [pid] if rng.random() < 0.5 else []
        self.add(text, standalone, shown, refs=[pid])

    def pronoun(self) -> None:
        rng = self.rng
        pid = self.focus
        assert pid
        name = self.name(pid)
        size = rng.choice(["42", "40", "10", "M", "L", "XL"])
        colour = rng.choice(COLOURS)
        if self.lang == "en":
            tpl = rng.choice([("is it available in {c}?", "c"), ("can I get it in size {s}?", "s"),
                              ("how much is it?", ""), ("is that one waterproof?", ""),
                              ("does it come in {c}?", "c"), ("is it in stock in size {s}?", "s")])
            text = tpl[0].format(c=colour[0], s=size)
            pron = "that one" if "that one" in text else "it"
            standalone = text.replace(pron, name, 1)
        else:
            tpl = rng.choice([("它有{c}的吗？", "c"), ("这款有{s}码的吗？", "s"), ("这个多少钱？", ""), ("它防水吗？", ""),
                              ("那款有{c}的吗？", "c")])
            if tpl[1] == "s" and not size[0].isdigit():
                size = "42"
            text = tpl[0].format(c=colour[1], s=size)
            pron = next(p for p in ("这款", "那款", "这个", "它") if p in text)
            standalone = text.replace(pron, name, 1)
        if tpl[1] == "c":
            self.slots["colour"] = colour[0]
        if tpl[1] == "s":
            self.slots["size"] = size
        self.add(text, standalone, [pid] if rng.random() < 0.3 else [], refs=[pid])

    def cheaper(self) -> None:
        rng = self.rng
        anchor = [self.focus] if self.focus else self.shown
        bound = min(PRODUCTS[p]["price"] for p in anchor)
        q = self.query
        if self.lang == "en":
            text = rng.choice(["any cheaper?", "do you have anything cheaper?", "something cheaper please",
                               "are there cheaper ones?", "hmm, too pricey. anything less expensive?"])
            standalone = f"{q} under {fmt(bound)}"
        else:
            text = rng.choice(["有便宜一点的吗？", "还有更便宜的吗？", "太贵了，有便宜点的吗", "有没有更实惠一点的？"])
            standalone = f"{q} {fmt(bound)}元以下"
        self.slots.pop("price_min", None)
        self.slots.pop("product_id", None)
        self.slots["price_max"] = bound
        self.focus = None
        cheaper = [i for i in CATALOG[self.cat]["ids"] if PRODUCTS[i]["price"] < bound][:3]
        self.add(text, standalone, cheaper)

    def elliptical(self) -> None:
        rng = self.rng
        q = self.query
        kind = rng.choice(["colour", "colour", "size", "price"])
        if kind == "colour":
            c = rng.choice(COLOURS)
            if self.lang == "en":
                text = rng.choice(["what about in {c}?", "how about {c}?", "and in {c}?", "any in {c}?"]).format(c=c[0])
                standalone = f"{q} in {c[0]}"
            else:
                text = rng.choice(["{c}的呢？", "有{c}的吗？", "那{c}的呢"]).format(c=c[1])
                standalone = f"{q} {c[1]}"
            self.slots["colour"] = c[0]
        elif kind == "size":
            s = rng.choice(["42", "43", "10", "M", "XL"]) if self.lang == "en" else rng.choice(["42", "38", "40"])
            if self.lang == "en":
                text = rng.choice(["what about size {s}?", "do you have size {s}?", "how about size {s}"]).format(s=s)
                standalone = f"{q} size {s}"
            else:
                text = rng.choice(["{s}码的呢？", "有{s}码的吗？"]).format(s=s)
                standalone = f"{q} {s}码"
            self.slots["size"] = s
        else:
            p = rng.choice([50, 60, 80, 100, 120])
            if self.lang == "en":
                text = rng.choice(["and under {p}?", "what about under ${p}?", "how about below {p} dollars?"]).format(p=p)
                standalone = f"{q} under {p}"
            else:
                text = rng.choice(["那{p}元以下的呢？", "{p}块以内的呢？"]).format(p=p)
                standalone = f"{q} {p}元以下"
            self.slots.pop("price_min", None)
            self.slots["price_max"] = p
        self.slots.pop("product_id", None)
        self.focus = None
        self.add(text, standalone, CATALOG[self.cat]["ids"][1:4])

    def order(self) -> None:
        rng = self.rng
        digits = str(rng.randint(100001, 100250))
        oid = "KF" + digits
        changed = self.topic is not None and self.topic != "order"
        if self.lang == "en":
            text = rng.choice(["where is my order {o}?", "what's the status of order {o}", "kf{d} hasn't arrived yet",
                               "can you check order {d} for me?", "I have a question about order #{d}",
                               "my order {o} is late"]).format(o=oid, d=digits)
        else:
            text = rng.choice(["我的订单{o}到哪了？", "帮我查一下订单{d}", "订单号{o}，还没收到货", "{o}这个订单什么时候发货"]).format(
                o=oid, d=digits)
        self.slots = {**(self.identity() if changed else {k: v for k, v in self.slots.items()
                                                             if k in ("email", "phone")}), "order_id": oid}
        self.topic, self.cat, self.query, self.focus = "order", None, None, None
        self.add(text, text, [], topic_changed=changed)

    def order_followup(self) -> None:
        rng = self.rng
        oid = self.slots["order_id"]
        if self.lang == "en":
            text, standalone = rng.choice([
                ("when will it arrive?", f"when will order {oid} arrive?"),
                ("can I cancel it?", f"can I cancel order {oid}?"),
                ("has my order shipped yet?", f"has my order {oid} shipped yet?"),
                ("what's the tracking number?", f"what's the tracking number for order {oid}?"),
                ("I want to return it", f"I want to return order {oid}"),
                ("can I get a refund?", f"can I get a refund for order {oid}?"),
            ])
        else:
            text, standalone = rng.choice([
                ("它什么时候能到？", f"订单{oid}什么时候能到？"),
                ("能取消吗？", f"订单{oid} 能取消吗？"),
                ("我的订单发货了吗？", f"我的订单{oid}发货了吗？"),
                ("物流单号是多少？", f"订单{oid} 物流单号是多少？"),
                ("我想退货", f"订单{oid} 我想退货"),
            ])
        self.add(text, standalone, [])

    def contact(self) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            e = rng.choice(EMAILS)
            text = rng.choice(["my email is {e}", "you can email me at {e}", "it's {e}"]).format(e=e) \
                if self.lang == "en" else rng.choice(["我的邮箱是{e}", "邮箱：{e}"]).format(e=e)
            self.slots["email"] = e
        else:
            raw, norm = rng.choice(PHONES)
            text = rng.choice(["my phone number is {p}", "call me on {p}"]).format(p=raw) \
                if self.lang == "en" else rng.choice(["我的手机号是{p}", "电话{p}"]).format(p=raw)
            self.slots["phone"] = norm
        self.add(text, text, [])

    def smalltalk(self) -> None:
        text = self.rng.choice(["thanks!", "ok great", "thank you so much", "cool"] if self.lang == "en"
                               else ["谢谢！", "好的", "太好了，谢谢"])
        self.add(text, text, [])


FLOWS = [
    ["search", "ordinal", "pronoun", "cheaper", "smalltalk"],
    ["search", "ordinal", "pronoun", "elliptical", "ordinal"],
    ["search", "cheaper", "ordinal", "pronoun"],
    ["search", "elliptical", "elliptical", "ordinal", "pronoun"],
    ["order", "order_followup", "contact", "order_followup"],
    ["contact", "order", "order_followup", "search", "ordinal"],
    ["search", "ordinal", "order", "order_followup", "smalltalk"],
    ["order", "order_followup", "search", "cheaper", "ordinal", "pronoun"],
    ["smalltalk", "search", "ordinal", "search", "ordinal", "cheaper"],
    ["search", "ordinal", "cheaper", "ordinal", "pronoun", "smalltalk"],
]


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    convs = []
    for i in range(n):
        lang = "en" if i % 2 == 0 else "zh"
        flow = FLOWS[(i // 2) % len(FLOWS)]
        c = Conv(lang, rng)
        for step in flow:
            getattr(c, step)()
        products = sorted({p for t in c.turns for p in t["products"]} | {r for t in c.turns
                                                                         for r in t["expect"]["referenced_products"]})
        convs.append({"id": f"{lang}-{i + 1:03d}", "lang": lang, "flow": flow,
                      "products": {p: {k: PRODUCTS[p][k] for k in ("title", "title_zh", "price")} for p in products},
                      "turns": c.turns})
    return convs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--out", default=str(ROOT / "services/dialog/scenarios.jsonl"))
    args = ap.parse_args()
    convs = generate(args.n)
    with open(args.out, "w", encoding="utf-8") as f:
        for c in convs:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    turns = sum(len(c["turns"]) for c in convs)
    print(json.dumps({"conversations": len(convs), "turns": turns, "out": args.out}))


if __name__ == "__main__":
    main()
