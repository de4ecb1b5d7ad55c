"""Scripted shopping conversations over every category of the demo catalog, EN and ZH (issue 15's
"≥ 100 conversations"), written to kefu/data/eval/shopping_generated.jsonl beside the 16 written
by hand. Each follows one shopper: a category, a colour the category has, a fit where the
category has one, a price cap, dropping the colour, then questions about what was shown.

The phrasings are drawn per conversation from pools written for this set (not the hand-written
set's, not the parser's examples), so the two sets measure different wordings; the expected
constraints follow from the script itself, never from what the parser answered. Run:

    python -m gateway.evaluation.shopping_gen [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from kefu.data import load_catalog
from kefu.vocab.shopping import colour_name

OUT = Path(__file__).resolve().parents[2] / "kefu" / "data" / "eval" / "shopping_generated.jsonl"
SEED = 15

# Other words than the templates' _TYPE_ZH where Chinese has them (跑鞋, 背包, 台灯, 锅, 床品): the set
# asks the parser for the synonyms a shopper uses, not for the words the replies print.
ZH_TYPE = {"jackets": "外套", "running shoes": "跑鞋", "sneakers": "运动鞋", "boots": "靴子", "t-shirts": "T恤",
           "jeans": "牛仔裤", "dresses": "连衣裙", "backpacks": "背包", "headphones": "耳机", "smartphones": "手机",
           "laptops": "笔记本电脑", "smartwatches": "智能手表", "chairs": "椅子", "lamps": "台灯", "desks": "书桌",
           "sofas": "沙发", "books": "书", "cookware": "锅", "bedding": "床品", "toys": "玩具",
           "skincare": "护肤品", "kitchen appliances": "厨房电器"}

OPEN = {"en": ["show me {cat}", "do you sell {cat}?", "I'm looking for {cat}", "any {cat}?",
               "I need some new {cat}", "what {cat} do you have?"],
        "zh": ["有{cat}吗", "我想买{cat}", "看看{cat}", "推荐一下{cat}", "你们卖{cat}吗", "想看看{cat}"]}
COLOUR = {"en": ["in {c}?", "do you have any in {c}?", "{c} ones please", "only {c}", "show me the {c} ones"],
          "zh": ["有{c}的吗", "要{c}的", "{c}的有吗", "只看{c}的"]}
GENDER = {"en": {"women": ["for women", "women's please", "I need the women's version"],
                 "men": ["for men", "men's please", "show me the men's ones"]},
          "zh": {"women": ["女款的", "要女款", "女士的"], "men": ["男款的", "要男款", "男士的"]}}
PRICE = {"en": ["under {n}", "less than ${n}", "below {n} dollars", "nothing over ${n}"],
         "zh": ["{n}元以下", "{n}以内的", "不超过{n}元"]}
DROP_COLOUR = {"en": ["any colour is fine", "drop the colour", "colour doesn't matter"],
               "zh": ["颜色不限", "什么颜色都行", "颜色无所谓"]}
ASKS = {"en": [("how much is the first one?", "price"), ("is the second one in stock?", "stock"),
               ("what's the first one made of?", "material")],
        "zh": [("第一个多少钱", "price"), ("第二个有货吗", "stock"), ("第一个是什么材质的", "material")]}


def _facets(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per category: its colours (commonest first), whether it has a fit, a middle price."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"colors": Counter(), "genders": Counter(), "prices": []})
    for p in rows:
        a = p.get("attributes") or {}
        f = out[p["category"]]
        if a.get("color"):
            f["colors"][str(a["color"]).lower()] += 1
        if a.get("gender") in ("women", "men"):
            f["genders"][a["gender"]] += 1
        if p.get("price"):
            f["prices"].append(float(p["price"]))
    return out


def _cap(prices: list[float], rnd: random.Random) -> int:
    """A round price cap near the category's middle (some products under it, some over)."""
    prices = sorted(prices)
    mid = prices[len(prices) // 2] if prices else 100.0
    step = 10 if mid < 100 else 50 if mid < 500 else 100
    return max(step, int(round(mid * rnd.uniform(0.8, 1.3) / step) * step))


def conversation(cat: str, facets: dict[str, Any], lang: str, variant: int) -> dict[str, Any]:
    rnd = random.Random(f"{SEED}:{cat}:{lang}:{variant}")
    name = ZH_TYPE[cat] if lang == "zh" else cat
    colors = [c for c, _ in facets["colors"].most_common(4)]
    color = colors[variant % len(colors)] if colors else None
    want: dict[str, Any] = {"category": cat}
    turns: list[dict[str, Any]] = [{"text": rnd.choice(OPEN[lang]).format(cat=name), "expect": dict(want)}]
    if color:
        want["color"] = color
        c = colour_name(color, "zh") if lang == "zh" else color
        turns.append({"text": rnd.choice(COLOUR[lang]).format(c=c), "expect": dict(want)})
    if facets["genders"]:
        g = ("women", "men")[variant % 2] if len(facets["genders"]) > 1 else next(iter(facets["genders"]))
        want["gender"] = g
        turns.append({"text": rnd.choice(GENDER[lang][g]), "expect": dict(want)})
    n = _cap(facets["prices"], rnd)
    want["price_max"] = float(n)
    turns.append({"text": rnd.choice(PRICE[lang]).format(n=n), "expect": dict(want)})
    if color:
        want.pop("color")
        turns.append({"text": rnd.choice(DROP_COLOUR[lang]), "expect": dict(want)})
    for text, ask in rnd.sample(ASKS[lang], 2):
        turns.append({"text": text, "asks": [ask]})
    cid = f"gen-{cat.replace(' ', '-')}-{lang}-{variant}"
    split = "test" if int(hashlib.sha256(cid.encode()).hexdigest(), 16) % 2 else "dev"
    return {"id": cid, "lang": lang, "split": split, "source": "generated", "turns": turns}


def build(variants: int = 2) -> list[dict[str, Any]]:
    facets = _facets(load_catalog())
    return [conversation(cat, facets[cat], lang, v) for cat in sorted(facets) for lang in ("en", "zh")
            for v in range(variants)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    convs = build()
    args.out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in convs), encoding="utf-8")
    print(f"wrote {len(convs)} conversations, {sum(len(c['turns']) for c in convs)} turns to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
