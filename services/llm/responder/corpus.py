"""The reply corpus kefu writes for its default responder: grounded context -> reply.

Every sample is a `ReplyContext` rendered by `kefu.prompting.build_messages` (the exact prompt the
gateway sends) plus the reply a careful agent would write from those facts only. Facts are drawn
fresh for every sample (random order ids, prices, dates, tracking numbers, product titles, and
policy sentences with random numbers), so the only way to get a reply right is to COPY the facts
from the context — memorising them is useless. The held-out split uses id ranges and brand names
that never occur in training, so evaluation measures copying of unseen strings.

Deterministic: sample i of (seed, split) depends only on those three values.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from kefu.contracts import ReplyContext, Turn
from kefu.prompting import DESC_CHARS, POLICY_CHARS, build_messages, clip_sentences, product_title
from services.llm.responder.delex import delexicalise, parse_facts

INTENTS = (
    "greeting",
    "goodbye",
    "thanks",
    "order_status",
    "cancel_order",
    "change_order",
    "return_request",
    "refund_status",
    "shipping_info",
    "change_address",
    "payment_issue",
    "product_search",
    "product_question",
    "recommendation",
    "price_question",
    "stock_availability",
    "coupon",
    "complaint",
    "human_agent",
    "account_help",
    "out_of_scope",
)
LANGS = ("en", "zh")

# ------------------------------------------------------------------ the synthetic world

BRANDS_TRAIN = (
    "Aurora",
    "Zenith",
    "Nimbus",
    "Vela",
    "Orion",
    "Lumen",
    "Koda",
    "Pebble",
    "Atlas",
    "Mira",
    "Solace",
    "Juniper",
    "Tundra",
    "Cobalt",
    "Harbor",
    "Ember",
    "Quill",
    "Sable",
    "Fjord",
    "Nova",
    "Birch",
    "Cinder",
    "Delta",
    "Echo",
    "Falcon",
    "Grove",
    "Helix",
    "Iris",
    "Jasper",
    "Kestrel",
    "Lark",
    "Maple",
    "Nexa",
    "Opal",
    "Pioneer",
    "Quartz",
    "Raven",
    "Sierra",
    "Terra",
    "Umber",
    "Vireo",
    "Willow",
    "Xeno",
    "Yarrow",
    "Zephyr",
    "Aster",
    "Bolt",
    "Crest",
    "Dune",
    "Elm",
)
# Never in training: the held-out split copies names the model has not seen.
BRANDS_HELDOUT = (
    "Marlow",
    "Tavi",
    "Brisk",
    "Corvo",
    "Ondine",
    "Pylon",
    "Rune",
    "Selva",
    "Tocca",
    "Vanta",
    "Wren",
    "Yuki",
    "Zorra",
    "Alcove",
    "Brume",
)
ADJECTIVES = (
    ("Wireless", "无线"),
    ("Compact", "迷你"),
    ("Classic", "经典"),
    ("Ultra", "超轻"),
    ("Pro", "专业"),
    ("Smart", "智能"),
    ("Portable", "便携"),
    ("Premium", "高级"),
    ("Waterproof", "防水"),
    ("Foldable", "折叠"),
    ("Organic", "有机"),
    ("Ergonomic", "人体工学"),
)
# (english, chinese, category, description template); {n} is a random number.
PRODUCT_TYPES = (
    ("Earbuds", "蓝牙耳机", "audio", ("Battery lasts {n} hours per charge.", "续航{n}小时。")),
    ("Headphones", "头戴耳机", "audio", ("Noise cancelling with {n} hours of playback.", "主动降噪，播放{n}小时。")),
    (
        "Speaker",
        "音箱",
        "audio",
        ("Delivers {n} watts of sound and pairs over Bluetooth.", "输出功率{n}瓦，支持蓝牙。"),
    ),
    ("Running Shoes", "跑鞋", "shoes", ("Weighs {n}0 grams with a cushioned sole.", "重量{n}0克，鞋底缓震。")),
    ("Hiking Boots", "登山靴", "shoes", ("Waterproof leather, sizes 36 to 4{n}.", "防水皮革，尺码36到4{n}。")),
    ("Backpack", "双肩包", "bags", ("Holds {n} liters and fits a 15-inch laptop.", "容量{n}升，可放15寸笔记本。")),
    ("Travel Mug", "保温杯", "kitchen", ("Keeps drinks hot for {n} hours.", "保温{n}小时。")),
    ("Coffee Grinder", "磨豆机", "kitchen", ("Has {n} grind settings.", "有{n}档研磨粗细。")),
    ("Desk Lamp", "台灯", "home", ("Offers {n} brightness levels and a USB port.", "{n}档亮度，带USB接口。")),
    ("Yoga Mat", "瑜伽垫", "sports", ("Is {n} mm thick and non-slip.", "厚度{n}毫米，防滑。")),
    (
        "Smart Watch",
        "智能手表",
        "wearables",
        ("Tracks heart rate; battery lasts {n} days.", "支持心率监测，续航{n}天。"),
    ),
    (
        "Power Bank",
        "充电宝",
        "electronics",
        ("Stores {n}000 mAh and charges two devices.", "容量{n}000毫安，可同时充两台设备。"),
    ),
    ("Keyboard", "键盘", "electronics", ("Mechanical switches, {n} keys.", "机械轴，{n}键。")),
    (
        "Rain Jacket",
        "冲锋衣",
        "clothing",
        ("Packs into its pocket and weighs {n}00 grams.", "可收纳进口袋，重{n}00克。"),
    ),
    ("T-Shirt", "T恤", "clothing", ("Made of {n}0% cotton.", "含棉量{n}0%。")),
    ("Blender", "破壁机", "kitchen", ("Has a {n}00-watt motor.", "电机功率{n}00瓦。")),
)
STATUS_ZH = {
    "pending": "待付款",
    "paid": "已付款",
    "shipped": "已发货",
    "delivered": "已签收",
    "cancelled": "已取消",
    "refunded": "已退款",
}
REFUND_ZH = {"pending": "待处理", "processing": "处理中", "completed": "已完成",
             "return_requested": "退货申请中", "return_received": "已收到退货"}
CARRIERS = (  # (name, prefix, digits) shaped like the bundled orders' tracking numbers
    ("UPS", "1Z", 16),
    ("FedEx", "", 12),
    ("DHL", "", 10),
    ("USPS", "9400", 18),
    ("SF Express", "SF", 13),
)
CURRENCIES = ("USD", "USD", "USD", "CNY", "EUR")

# Policy sentences with random numbers; the first sentence of the rendered policy is what a
# reply must copy. Real policy sections from kefu/data are mixed in when that package exists.
POLICY_TOPIC = {
    "return_request": "returns",
    "refund_status": "refunds",
    "shipping_info": "shipping",
    "payment_issue": "payment",
    "coupon": "coupons",
    "account_help": "account",
}
POLICY_SYNTH: dict[str, dict[str, tuple[str, ...]]] = {
    "returns": {
        "en": (
            "Items can be returned within {d} days of delivery.",
            "Unused items in their original packaging can be returned within {d} days.",
            "You may return any item within {d} days for a full refund.",
            "Returns are accepted within {d} days; opened electronics get a {p}% restocking fee.",
        ),
        "zh": (
            "签收后{d}天内可申请退货。",
            "未使用且包装完好的商品可在{d}天内退货。",
            "商品在{d}天内可无理由退货。",
            "{d}天内可退货，已拆封电子产品收取{p}%手续费。",
        ),
    },
    "refunds": {
        "en": (
            "Refunds reach the original payment method within {d} business days.",
            "Once we receive the return, the refund is issued within {d} days.",
            "Refunds are processed within {d} business days after approval.",
        ),
        "zh": ("退款将在{d}个工作日内原路退回。", "收到退货后{d}天内完成退款。", "退款审核通过后{d}个工作日内到账。"),
    },
    "shipping": {
        "en": (
            "Standard shipping takes {a} to {b} business days.",
            "Orders over {x} USD ship free; standard delivery takes {a} to {b} days.",
            "Express shipping arrives in {a} days and costs {y}.99 USD.",
        ),
        "zh": ("普通快递{a}到{b}个工作日送达。", "订单满{x}元包邮，{a}到{b}天送达。", "加急快递{a}天送达，运费{y}元。"),
    },
    "payment": {
        "en": (
            "We accept Visa, Mastercard, PayPal and Alipay.",
            "A failed payment is never charged; any hold is released within {d} days.",
            "If your card is declined, you can retry within {h} hours before the order is released.",
        ),
        "zh": (
            "支持支付宝、微信支付和银行卡付款。",
            "支付失败不会扣款，预授权将在{d}天内释放。",
            "付款失败后可在{h}小时内重新支付。",
        ),
    },
    "coupons": {
        "en": (
            "One coupon can be used per order.",
            "New customers get {p}% off their first order with code WELCOME{p}.",
            "Coupons expire {d} days after they are issued and cannot be combined.",
        ),
        "zh": (
            "每个订单限用一张优惠券。",
            "新用户首单使用优惠码 WELCOME{p} 可享{p}%折扣。",
            "优惠券发放后{d}天内有效，不可叠加使用。",
        ),
    },
    "account": {
        "en": (
            "You can reset your password from the sign-in page; the link is valid for {h} hours.",
            "To change your email, open Account settings and confirm the code we send you.",
            "Accounts can be deleted on request within {d} days.",
        ),
        "zh": (
            "可在登录页重置密码，链接{h}小时内有效。",
            "在账户设置中可修改邮箱，需输入验证码确认。",
            "申请后{d}天内可注销账户。",
        ),
    },
}
_POLICY_KEYWORDS = {
    "returns": ("return", "退货"),
    "refunds": ("refund", "退款"),
    "shipping": ("shipping", "delivery", "配送", "物流", "运费"),
    "payment": ("payment", "支付", "付款"),
    "coupons": ("coupon", "promotion", "discount", "优惠"),
    "account": ("account", "账户", "账号"),
}


@dataclass
class Sample:
    """One training or evaluation example."""

    intent: str
    lang: str
    ctx: ReplyContext
    messages: list[dict[str, str]]
    reply: str
    required: list[str] = field(default_factory=list)  # facts the reply must contain
    markers: list[str] = field(default_factory=list)  # any one must appear (fact-free intents)
    delex: str = ""  # the reply with each copied fact replaced by its placeholder (see delex.py)


@lru_cache(maxsize=1)
def _real_data() -> dict[str, Any]:
    """kefu/data when it exists (user phrasings from intents.csv, policy sections); else empty."""
    out: dict[str, Any] = {"texts": {}, "policy": {"en": {}, "zh": {}}}
    try:
        import kefu.data as kd  # type: ignore[import-not-found]
    except ImportError:
        return out
    try:
        with open(kd.intents_path(), encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                key = (row.get("label", ""), row.get("lang", "en"))
                if row.get("text"):
                    out["texts"].setdefault(key, []).append(row["text"])
    except (OSError, AttributeError):
        pass
    for lang in LANGS:
        try:
            sections = kd.policy_sections(lang)
        except Exception:  # noqa: BLE001 — the data package may be half-written while we build
            continue
        for topic, words in _POLICY_KEYWORDS.items():
            for title in sorted(sections):
                if any(w in title.lower() for w in words) and sections[title].strip():
                    out["policy"][lang][topic] = sections[title]
                    break
    return out


@lru_cache(maxsize=1)
def _real_catalog() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held-out) products of the bundled catalog, split 4:1 by id."""
    try:
        import kefu.data as kd  # type: ignore[import-not-found]

        with open(kd.catalog_path(), encoding="utf-8") as fh:
            products = [json.loads(line) for line in fh if line.strip()]
    except (ImportError, AttributeError, OSError, ValueError):
        return [], []
    train, held = [], []
    for p in products:
        if not p.get("title") or not str(p.get("id", "")).strip("P").isdigit():
            continue
        if int(str(p["id"]).strip("P")) % 5 == 0:
            held.append(p)
        elif not any(re.search(rf"\b{b}\b", p["title"]) for b in BRANDS_HELDOUT):
            train.append(p)  # held-out synthetic brands must stay unseen
    held_titles = {p["title"] for p in held}
    return [p for p in train if p["title"] not in held_titles], held


def real_brands() -> list[str]:
    train, held = _real_catalog()
    return sorted({p.get("brand", "") for p in train + held if p.get("brand")})


class World:
    """Random facts for one sample; `heldout` draws ids and brands training never sees."""

    def __init__(self, rng: random.Random, heldout: bool) -> None:
        self.rng = rng
        self.heldout = heldout

    def order_id(self) -> str:
        lo, hi = (900000, 999999) if self.heldout else (100000, 899999)
        return f"KF{self.rng.randint(lo, hi)}"

    def product_id(self) -> str:
        lo, hi = (80000, 99999) if self.heldout else (1, 79999)
        return f"P{self.rng.randint(lo, hi):05d}"

    def price(self) -> float:
        r = self.rng
        whole = r.choice((r.randint(5, 60), r.randint(10, 200), r.randint(20, 900)))
        cents = r.choice((0, 50, 90, 95, 99, r.randint(1, 99)))
        return round(whole + cents / 100, 2)

    def day(self, start: date | None = None, span: int = 400) -> date:
        base = start or date(2024, 6, 1)
        return base + timedelta(days=self.rng.randint(0, span))

    def product(self) -> dict[str, Any]:
        """Half the time a bundled catalog product (title, brand, description; id, price and stock
        drawn fresh), else a synthetic one. The held-out split only uses products training never sees."""
        r = self.rng
        real = _real_catalog()[1 if self.heldout else 0]
        if real and r.random() < 0.5:
            p = r.choice(real)
            attrs = p.get("attributes") or {}
            stock = 0 if r.random() < 0.2 else r.choice((r.randint(1, 9), r.randint(10, 250)))
            return {
                "id": self.product_id(),
                "title": p["title"],
                "description": clip_sentences(first_sentence(p.get("description") or ""), DESC_CHARS),
                "description_zh": clip_sentences(first_sentence(p.get("description") or ""), DESC_CHARS),
                "category": p.get("category", ""),
                "category_zh": attrs.get("category_zh", ""),
                "brand": p.get("brand", ""),
                "price": self.price(),
                "currency": "USD",
                "stock": stock,
                "attributes": {"title_zh": attrs["title_zh"]} if attrs.get("title_zh") else {},
            }
        brand = r.choice(BRANDS_HELDOUT if self.heldout else BRANDS_TRAIN)
        adj_en, adj_zh = r.choice(ADJECTIVES)
        type_en, type_zh, category, (desc_en, desc_zh) = r.choice(PRODUCT_TYPES)
        n = r.randint(2, 9) if re.search(r"\{n\}\d|\d\{n\}", desc_en) else r.randint(3, 60)
        with_adj = r.random() < 0.8 and adj_en not in type_en
        title = f"{brand} {adj_en} {type_en}" if with_adj else f"{brand} {type_en}"
        title_zh = f"{brand} {adj_zh}{type_zh}" if with_adj else f"{brand} {type_zh}"
        stock = 0 if r.random() < 0.2 else r.choice((r.randint(1, 9), r.randint(10, 250)))
        attrs: dict[str, Any] = {"title_zh": title_zh} if r.random() < 0.85 else {}
        return {
            "id": self.product_id(),
            "title": title,
            "description": desc_en.format(n=n),
            "description_zh": desc_zh.format(n=n),
            "category": category,
            "brand": brand,
            "price": self.price(),
            "currency": r.choice(CURRENCIES),
            "stock": stock,
            "attributes": attrs,
        }

    def order(self, status: str | None = None, refund: str | None = None) -> dict[str, Any]:
        r = self.rng
        status = status or r.choice(tuple(STATUS_ZH))
        items = []
        for _ in range(r.choice((1, 1, 1, 2))):
            p = self.product()
            items.append(
                {
                    "product_id": p["id"],
                    "title": p["title"],
                    "title_zh": p["attributes"].get("title_zh", p["title"]),
                    "qty": r.choice((1, 1, 2)),
                    "price": p["price"],
                }
            )
        created = self.day()
        order: dict[str, Any] = {
            "id": self.order_id(),
            "email": "",
            "status": status,
            "items": items,
            "total": round(sum(i["price"] * i["qty"] for i in items), 2),
            "currency": r.choice(CURRENCIES),
            "carrier": None,
            "tracking_number": None,
            "created_at": created.isoformat() + "T10:00:00Z",
            "eta": None,
            "delivered_at": None,
            "refund_status": None,
        }
        if status in ("shipped", "delivered", "refunded"):
            carrier, prefix, digits = r.choice(CARRIERS)
            order["carrier"] = carrier
            order["tracking_number"] = prefix + "".join(r.choice("0123456789") for _ in range(digits))
            if carrier == "UPS" and r.random() < 0.5:  # UPS numbers carry letters too
                alnum = "0123456789ABCDEFGHJKLMNPRTUVWXY"
                order["tracking_number"] = "1Z" + "".join(r.choice(alnum) for _ in range(16))
            shipped = created + timedelta(days=r.randint(1, 3))
            order["eta"] = (shipped + timedelta(days=r.randint(2, 7))).isoformat()
            if status in ("delivered", "refunded"):
                order["delivered_at"] = (shipped + timedelta(days=r.randint(2, 6))).isoformat() + "T15:30:00Z"
        if status == "refunded":
            order["refund_status"] = refund or r.choice(("completed", "completed", "processing", "pending"))
        elif refund:
            order["refund_status"] = refund
        return order

    def policy(self, topic: str, lang: str) -> str:
        r = self.rng
        real = _real_data()["policy"][lang].get(topic)
        if real and r.random() < 0.3:
            return real
        a = r.randint(1, 5)
        vals = {
            "d": r.choice((7, 14, 15, 30, 45, 60, 90, r.randint(3, 120))),
            "p": r.choice((5, 10, 15, 20, 25)),
            "a": a,
            "b": a + r.randint(1, 6),
            "x": r.choice((35, 49, 50, 59, 99, 100, 199)),
            "y": r.randint(5, 25),
            "h": r.choice((2, 12, 24, 48, 72)),
        }
        sents = list(POLICY_SYNTH[topic][lang])
        r.shuffle(sents)
        joiner = "" if lang == "zh" else " "
        return joiner.join(s.format(**vals) for s in sents[: r.choice((1, 2, 2, 3))])


def first_sentence(text: str) -> str:
    m = re.search(r"^.+?[.!?。！？](?=\s|$|[^\d])", text)
    return (m.group(0) if m else text).strip()


# ------------------------------------------------------------------ user phrasings

USER: dict[str, dict[str, tuple[str, ...]]] = {
    "greeting": {
        "en": ("hi", "hello", "hey there", "good morning", "hi, anyone here?", "hello, I need some help"),
        "zh": ("你好", "您好", "在吗", "早上好", "你好，我想咨询一下"),
    },
    "goodbye": {
        "en": ("bye", "goodbye", "that's all, bye", "see you", "ok bye for now"),
        "zh": ("再见", "拜拜", "好的，再见", "没事了，再见"),
    },
    "thanks": {
        "en": ("thanks", "thank you!", "thanks a lot", "great, thanks for the help", "cheers"),
        "zh": ("谢谢", "谢谢你", "非常感谢", "好的，谢谢帮忙"),
    },
    "order_status": {
        "en": (
            "where is my order {oid}?",
            "what's the status of order {oid}",
            "has {oid} shipped yet?",
            "where is my package",
            "can you check my order {oid}",
            "order status please",
        ),
        "zh": ("我的订单{oid}到哪了？", "查一下订单 {oid} 的状态", "{oid}发货了吗", "我的包裹到哪了", "帮我查下订单"),
    },
    "cancel_order": {
        "en": (
            "I want to cancel order {oid}",
            "please cancel my order {oid}",
            "can I cancel my order?",
            "cancel {oid} please",
        ),
        "zh": ("我要取消订单{oid}", "请帮我取消订单 {oid}", "订单还能取消吗", "取消{oid}"),
    },
    "change_order": {
        "en": (
            "can I change the size in order {oid}?",
            "I need to modify my order {oid}",
            "can I add an item to my order?",
            "change the color on {oid}",
        ),
        "zh": ("订单{oid}能改尺码吗", "我想修改订单 {oid}", "可以往订单里加商品吗", "{oid}能换颜色吗"),
    },
    "return_request": {
        "en": (
            "I want to return order {oid}",
            "how do I return an item?",
            "can I send this back?",
            "return request for {oid}",
            "the shoes don't fit, can I return them",
        ),
        "zh": ("我想退货，订单{oid}", "怎么退货？", "这个能退吗", "订单 {oid} 申请退货", "鞋子不合适，可以退吗"),
    },
    "refund_status": {
        "en": (
            "where is my refund for {oid}?",
            "has my refund been processed?",
            "refund status {oid}",
            "when do I get my money back",
        ),
        "zh": ("订单{oid}的退款到哪了", "我的退款处理了吗", "退款进度 {oid}", "钱什么时候退回来"),
    },
    "shipping_info": {
        "en": (
            "how long does shipping take?",
            "what's the tracking number for {oid}?",
            "which carrier ships {oid}?",
            "do you ship for free?",
            "when will {oid} arrive",
        ),
        "zh": ("发货要多久？", "订单{oid}的快递单号是多少", "{oid}用的哪家快递", "包邮吗", "{oid}什么时候到"),
    },
    "change_address": {
        "en": (
            "I need to change the shipping address for {oid}",
            "can I update my delivery address?",
            "wrong address on order {oid}",
        ),
        "zh": ("订单{oid}要改收货地址", "可以修改收货地址吗", "订单 {oid} 地址填错了"),
    },
    "payment_issue": {
        "en": (
            "my payment failed",
            "I was charged twice",
            "card declined at checkout",
            "what payment methods do you accept?",
        ),
        "zh": ("付款失败了", "我被扣了两次钱", "结账时银行卡被拒", "支持哪些付款方式？"),
    },
    "product_search": {
        "en": ("I'm looking for {type}", "do you sell {type}?", "show me some {type}", "search {type} under 100"),
        "zh": ("我想买{type}", "有{type}吗", "推荐几款{type}", "找一下100元以内的{type}"),
    },
    "product_question": {
        "en": (
            "tell me more about the {title}",
            "what are the specs of the {title}?",
            "is the {title} any good?",
            "how long does the battery last?",
        ),
        "zh": ("介绍一下{title}", "{title}的参数是什么", "{title}怎么样", "这个续航多久"),
    },
    "recommendation": {
        "en": (
            "what {type} do you recommend?",
            "any good {type} for a gift?",
            "which {type} is best?",
            "recommend something please",
        ),
        "zh": ("推荐一款{type}", "送礼买什么{type}好", "哪款{type}最好", "有什么推荐的吗"),
    },
    "price_question": {
        "en": ("how much is the {title}?", "what does the {title} cost?", "price of {title}", "how much is it?"),
        "zh": ("{title}多少钱", "{title}的价格是多少", "这个多少钱", "{title}什么价"),
    },
    "stock_availability": {
        "en": (
            "is the {title} in stock?",
            "do you have {title} available?",
            "when will the {title} be back in stock?",
            "is it available?",
        ),
        "zh": ("{title}有货吗", "{title}还有库存吗", "这个有货吗", "{title}什么时候补货"),
    },
    "coupon": {
        "en": (
            "do you have any coupons?",
            "my coupon code doesn't work",
            "can I use two coupons?",
            "is there a discount for new customers?",
        ),
        "zh": ("有优惠券吗", "优惠码用不了", "可以同时用两张优惠券吗", "新用户有折扣吗"),
    },
    "complaint": {
        "en": (
            "this is unacceptable, my order {oid} arrived broken",
            "terrible service, I'm very unhappy",
            "the item in {oid} is damaged",
            "I've waited two weeks, this is ridiculous",
        ),
        "zh": (
            "太差了，订单{oid}收到的东西是坏的",
            "服务太差了，我很不满意",
            "订单 {oid} 的商品有破损",
            "等了两周还没到，太离谱了",
        ),
    },
    "human_agent": {
        "en": (
            "I want to talk to a human",
            "let me speak to an agent",
            "real person please",
            "transfer me to customer service",
        ),
        "zh": ("转人工", "我要找人工客服", "让真人来回答", "人工服务"),
    },
    "account_help": {
        "en": ("I forgot my password", "how do I change my email?", "I can't log in", "how do I delete my account?"),
        "zh": ("忘记密码了", "怎么修改邮箱", "登录不上", "怎么注销账号"),
    },
    "out_of_scope": {
        "en": (
            "what's the weather tomorrow?",
            "tell me a joke",
            "who won the game last night?",
            "can you write my homework?",
            "what is the capital of France?",
        ),
        "zh": ("明天天气怎么样", "讲个笑话", "昨晚比赛谁赢了", "帮我写作业", "法国首都是哪里"),
    },
}

OID = re.compile(r"KF\d{6}")


def _user_text(r: random.Random, intent: str, lang: str, oid: str | None, product: dict[str, Any] | None) -> str:
    real = _real_data()["texts"].get((intent, lang), [])
    use_real = real and r.random() < 0.4
    pool = [t for t in USER[intent][lang] if ("{oid}" in t) == bool(oid) or "{oid}" not in t]
    if not oid:
        pool = [t for t in pool if "{oid}" not in t]
    text = r.choice(real) if use_real else r.choice(pool)
    title = product_title(product, lang) if product else ("这个" if lang == "zh" else "it")
    ptype = ""
    if product:
        ptype = next(
            (z if lang == "zh" else e.lower() for e, z, _c, _d in PRODUCT_TYPES if product["title"].endswith(e)), ""
        ) or str(product.get("category_zh" if lang == "zh" else "category") or "")
    text = (
        text.replace("{oid}", oid or "")
        .replace("{title}", title)
        .replace("{type}", ptype or ("商品" if lang == "zh" else "products"))
    )
    if oid:
        text = OID.sub(oid, text)
    elif OID.search(text):
        text = OID.sub("", text)
    return " ".join(text.split())


# ------------------------------------------------------------------ replies per intent
# Each builder fills ctx fields and returns (reply, required facts, markers).

Builder = Callable[[random.Random, "World", str, dict[str, Any]], tuple[str, list[str], list[str]]]


def _pick(r: random.Random, options: tuple[str, ...] | list[str], **kw: Any) -> str:
    return r.choice(options).format(**kw)


def _money(p: dict[str, Any]) -> str:
    return f"{float(p['price']):.2f} {p.get('currency') or 'USD'}"


def _total(o: dict[str, Any]) -> str:
    return f"{float(o['total']):.2f} {o.get('currency') or 'USD'}"


def _status(o: dict[str, Any], lang: str) -> str:
    return STATUS_ZH[o["status"]] if lang == "zh" else o["status"]


def _ask_order(r: random.Random, lang: str) -> tuple[str, list[str], list[str]]:
    if lang == "zh":
        return (
            _pick(
                r,
                (
                    "请提供您的订单号（以 KF 开头），我来帮您查询。",
                    "麻烦发一下订单号，我马上帮您处理。",
                    "为了帮您处理，请告诉我订单号。",
                ),
            ),
            [],
            ["订单号"],
        )
    return (
        _pick(
            r,
            (
                "Could you share your order number (it starts with KF)? Then I can check it for you.",
                "Please send me your order number and I'll take a look.",
                "Sure, which order is it? Please give me the order number.",
            ),
        ),
        [],
        ["order number"],
    )


def _not_found(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    oid = w.order_id()
    f["slots"] = {"order_id": oid}
    f["user_oid"] = oid
    f["note"] = "未找到该订单" if lang == "zh" else "order not found"
    if lang == "zh":
        return (
            _pick(
                r,
                ("抱歉，没有找到订单 {o}，请核对订单号后再试。", "系统中查不到订单 {o}，请确认订单号是否正确。"),
                o=oid,
            ),
            [oid],
            ["查不到", "没有找到"],
        )
    return (
        _pick(
            r,
            (
                "Sorry, I couldn't find an order with the number {o}. Could you double-check it?",
                "I can't find order {o} in our system. Please check the number and try again.",
            ),
            o=oid,
        ),
        [oid],
        ["find"],
    )


def _order_lookup(
    r: random.Random,
    w: World,
    lang: str,
    f: dict[str, Any],
    statuses: tuple[str, ...] | None = None,
    refund: str | None = None,
) -> dict[str, Any] | None:
    """Most samples carry the order; some lack it (ask) or name an unknown one (not found)."""
    roll = r.random()
    if roll < 0.08:
        f["ask"] = True
        return None
    if roll < 0.14:
        f["not_found"] = True
        return None
    order = w.order(status=r.choice(statuses) if statuses else None, refund=refund)
    f["order"] = order
    f["user_oid"] = order["id"] if r.random() < 0.75 else None
    if f["user_oid"] or r.random() < 0.5:
        f["slots"] = {"order_id": order["id"]}
    return order


def b_greeting(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if lang == "zh":
        return (
            _pick(
                r,
                (
                    "您好！请问有什么可以帮您？",
                    "您好，我是客服助手，可以帮您查询订单、物流、退货和商品，请问需要什么帮助？",
                    "你好！很高兴为您服务，请问有什么可以帮您？",
                ),
            ),
            [],
            ["帮您"],
        )
    return (
        _pick(
            r,
            (
                "Hello! How can I help you today?",
                "Hi there! I can help with orders, shipping, returns and products. What do you need?",
                "Hello, welcome! What can I help you with?",
                "Hi! How can I help?",
            ),
        ),
        [],
        ["help"],
    )


def b_goodbye(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if lang == "zh":
        return _pick(r, ("再见，祝您购物愉快！", "感谢您的咨询，再见！", "好的，再见，有问题随时找我。")), [], ["再见"]
    return (
        _pick(
            r, ("Goodbye, and thanks for shopping with us!", "Bye! Have a great day.", "Thanks for chatting. Goodbye!")
        ),
        [],
        ["bye", "Bye"],
    )


def b_thanks(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if lang == "zh":
        return (
            _pick(r, ("不客气！还有其他可以帮您的吗？", "不用谢，很高兴能帮到您。", "不客气，祝您购物愉快！")),
            [],
            ["不客气", "不用谢"],
        )
    return (
        _pick(
            r,
            (
                "You're welcome! Is there anything else I can help with?",
                "You're welcome, happy to help.",
                "Glad I could help! Anything else?",
            ),
        ),
        [],
        ["welcome", "help"],
    )


def b_order_status(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    o = _order_lookup(r, w, lang, f)
    if f.get("ask"):
        return _ask_order(r, lang)
    if f.get("not_found"):
        return _not_found(r, w, lang, f)
    assert o is not None
    oid, st, s = o["id"], o["status"], _status(o, lang)
    req = [oid, s]
    if lang == "zh":
        head = _pick(
            r, ("您的订单 {o} 当前状态：{s}。", "订单 {o} 目前{s}。", "查到了，订单 {o} 的状态是{s}。"), o=oid, s=s
        )
        if st == "shipped":
            tail = _pick(
                r,
                ("由 {c} 承运，物流单号 {t}，预计 {e} 送达。", "快递 {c}，单号 {t}，预计 {e} 到达。"),
                c=o["carrier"],
                t=o["tracking_number"],
                e=o["eta"],
            )
            req += [o["tracking_number"], o["eta"]]
        elif st in ("delivered",):
            tail = _pick(r, ("已于 {d} 签收。", "签收日期为 {d}。"), d=o["delivered_at"][:10])
            req.append(o["delivered_at"][:10])
        elif st == "pending":
            tail = "订单还在等待付款，付款后会尽快为您安排发货。"
        elif st == "paid":
            tail = "我们正在为您备货，发货后会通知您物流单号。"
        elif st == "refunded":
            tail = _pick(r, ("退款状态：{x}。",), x=REFUND_ZH[o["refund_status"]])
            req.append(REFUND_ZH[o["refund_status"]])
        else:
            tail = "该订单已取消。"
        return head + tail, req, []
    head = _pick(
        r, ("Your order {o} is {s}.", "Order {o} is currently {s}.", "I checked order {o}: it is {s}."), o=oid, s=s
    )
    if st == "shipped":
        tail = _pick(
            r,
            (
                " It is with {c}, tracking number {t}, and should arrive by {e}.",
                " {c} is delivering it (tracking {t}); expected delivery is {e}.",
            ),
            c=o["carrier"],
            t=o["tracking_number"],
            e=o["eta"],
        )
        req += [o["tracking_number"], o["eta"]]
    elif st == "delivered":
        tail = _pick(r, (" It was delivered on {d}.", " Delivery was completed on {d}."), d=o["delivered_at"][:10])
        req.append(o["delivered_at"][:10])
    elif st == "pending":
        tail = " We are still waiting for payment; it will ship soon after payment."
    elif st == "paid":
        tail = " We are preparing it now and will send the tracking number once it ships."
    elif st == "refunded":
        tail = _pick(r, (" The refund is {x}.",), x=o["refund_status"])
        req.append(o["refund_status"])
    else:
        tail = " It has been cancelled."
    return head + tail, req, []


_REASON = {
    "en": {
        "shipped": "the order has already shipped",
        "delivered": "the order was already delivered",
        "cancelled": "the order is already cancelled",
        "refunded": "the order was already refunded",
    },
    "zh": {"shipped": "订单已发货", "delivered": "订单已签收", "cancelled": "订单已取消", "refunded": "订单已退款"},
}


def _gated(r: random.Random, w: World, lang: str, f: dict[str, Any], what: str) -> tuple[str, list[str], list[str]]:
    """cancel / change / change_address: allowed before shipping, else refused with the note's reason."""
    o = _order_lookup(r, w, lang, f)
    if f.get("ask"):
        return _ask_order(r, lang)
    if f.get("not_found"):
        return _not_found(r, w, lang, f)
    assert o is not None
    oid = o["id"]
    allowed = o["status"] in ("pending", "paid")
    verb_en = {"cancel": "cancelled", "change": "changed", "address": "updated with a new address"}[what]
    verb_zh = {"cancel": "取消", "change": "修改", "address": "修改收货地址"}[what]
    if allowed:
        f["note"] = (
            f"可以{verb_zh}：订单尚未发货"
            if lang == "zh"
            else f"{'cancellation' if what == 'cancel' else 'change'} allowed: the order has not shipped yet"
        )
        if lang == "zh":
            extra = f"，退款 {_total(o)} 将原路退回" if what == "cancel" else ""
            return (
                _pick(
                    r,
                    ("订单 {o} 尚未发货，可以{v}{x}。请确认是否继续？", "好的，订单 {o} 还没发货，可以{v}{x}。"),
                    o=oid,
                    v=verb_zh,
                    x=extra,
                ),
                [oid],
                [f"可以{verb_zh}"],
            )
        extra = f"; the {_total(o)} will go back to your original payment method" if what == "cancel" else ""
        return (
            _pick(
                r,
                (
                    "Order {o} has not shipped yet, so it can be {v}{x}. Shall I go ahead?",
                    "Good news: order {o} can still be {v}{x}.",
                ),
                o=oid,
                v=verb_en,
                x=extra,
            ),
            [oid],
            [f"can be {verb_en}", f"can still be {verb_en}"],
        )
    reason = _REASON[lang][o["status"]]
    if lang == "zh":
        f["note"] = f"无法{verb_zh}：{reason}"
        return (
            _pick(
                r,
                ("抱歉，订单 {o} 无法{v}，原因：{why}。", "很抱歉，{why}，订单 {o} 已不能{v}。"),
                o=oid,
                v=verb_zh,
                why=reason,
            ),
            [oid, reason],
            [],
        )
    short = {"cancel": "cannot cancel", "change": "cannot change", "address": "cannot change the address"}[what]
    f["note"] = f"{short}: {reason}"
    return (
        _pick(
            r,
            ("Sorry, order {o} cannot be {v} because {why}.", "I'm afraid {why}, so order {o} can no longer be {v}."),
            o=oid,
            v=verb_en,
            why=reason,
        ),
        [oid, reason],
        [],
    )


def b_cancel(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    return _gated(r, w, lang, f, "cancel")


def b_change(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    return _gated(r, w, lang, f, "change")


def b_address(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    return _gated(r, w, lang, f, "address")


def _policy_reply(
    r: random.Random, w: World, lang: str, f: dict[str, Any], intent: str, with_order: bool
) -> tuple[str, list[str], list[str]]:
    pol = w.policy(POLICY_TOPIC[intent], lang)
    f["policy"] = pol
    sent = first_sentence(clip_sentences(pol, POLICY_CHARS[lang]))
    order = None
    if with_order and r.random() < 0.5:
        order = w.order(status=r.choice(("delivered", "delivered", "shipped", "paid")))
        f["order"] = order
        f["slots"] = {"order_id": order["id"]}
        f["user_oid"] = order["id"] if r.random() < 0.7 else None
    lead = {
        "return_request": ("You can return items from order {o}.", "订单 {o} 可以申请退货。"),
        "refund_status": ("About your refund for order {o}:", "关于订单 {o} 的退款："),
        "shipping_info": ("About shipping for order {o}:", "关于订单 {o} 的配送："),
        "payment_issue": ("Sorry about the payment trouble with order {o}.", "很抱歉订单 {o} 付款遇到问题。"),
        "coupon": ("For order {o}:", "订单 {o}："),
        "account_help": ("", ""),
    }[intent]
    generic = {
        "return_request": (
            ("Sure, here is our return policy:", "Of course. Our policy:"),
            ("可以的，我们的退货政策是：", "好的，退货规则如下："),
        ),
        "refund_status": (("Here is how refunds work:",), ("退款规则如下：",)),
        "shipping_info": (("Here is our shipping policy:", "About shipping:"), ("配送说明：", "关于配送：")),
        "payment_issue": (
            ("Sorry about the payment trouble.", "Here is what our payment policy says:"),
            ("很抱歉给您带来不便。", "付款说明："),
        ),
        "coupon": (("About coupons:", "Here is our coupon policy:"), ("关于优惠券：", "优惠券规则：")),
        "account_help": (("Here is how to do that:", "No problem."), ("您可以这样操作：", "没问题。")),
    }[intent]
    li = 1 if lang == "zh" else 0
    if order is not None and lead[li]:
        head = lead[li].format(o=order["id"])
        req = [order["id"], sent]
    else:
        head = r.choice(generic[li])
        req = [sent]
    return (head + sent) if lang == "zh" else f"{head} {sent}", req, []


def b_return(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    return _policy_reply(r, w, lang, f, "return_request", True)


def b_payment(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    return _policy_reply(r, w, lang, f, "payment_issue", True)


def b_coupon(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    return _policy_reply(r, w, lang, f, "coupon", False)


def b_account(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    return _policy_reply(r, w, lang, f, "account_help", False)


def b_refund(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if r.random() < 0.25:
        return _policy_reply(r, w, lang, f, "refund_status", False)
    o = _order_lookup(r, w, lang, f, statuses=("refunded", "refunded", "delivered", "cancelled"))
    if f.get("ask"):
        return _ask_order(r, lang)
    if f.get("not_found"):
        return _not_found(r, w, lang, f)
    assert o is not None
    oid = o["id"]
    if o["status"] == "cancelled" and r.random() < 0.7:
        o["refund_status"] = r.choice(tuple(REFUND_ZH))
    if not o.get("refund_status"):
        if lang == "zh":
            return (
                _pick(r, ("订单 {o} 目前没有退款记录，订单状态：{s}。",), o=oid, s=_status(o, lang)),
                [oid],
                ["没有退款"],
            )
        return (
            _pick(r, ("There is no refund on order {o}; its status is {s}.",), o=oid, s=o["status"]),
            [oid],
            ["no refund"],
        )
    if r.random() < 0.3:
        f["policy"] = w.policy("refunds", lang)
    if lang == "zh":
        x = REFUND_ZH[o["refund_status"]]
        return (
            _pick(
                r,
                ("订单 {o} 的退款{x}，金额 {m}。", "您订单 {o} 的退款（{m}）当前状态：{x}。"),
                o=oid,
                x=x,
                m=_total(o),
            ),
            [oid, x, _total(o)],
            [],
        )
    return (
        _pick(
            r,
            ("The refund of {m} for order {o} is {x}.", "Your refund for order {o} ({m}) is {x}."),
            o=oid,
            x=o["refund_status"],
            m=_total(o),
        ),
        [oid, o["refund_status"], _total(o)],
        [],
    )


def b_shipping(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if r.random() < 0.45:
        return _policy_reply(r, w, lang, f, "shipping_info", False)
    o = _order_lookup(r, w, lang, f, statuses=("shipped", "shipped", "paid"))
    if f.get("ask"):
        return _ask_order(r, lang)
    if f.get("not_found"):
        return _not_found(r, w, lang, f)
    assert o is not None
    oid = o["id"]
    if o["status"] == "paid":
        if lang == "zh":
            return f"订单 {oid} 还在备货，尚未发货，发货后会给您物流单号。", [oid], ["尚未发货"]
        return f"Order {oid} has not shipped yet; you will get a tracking number once it does.", [oid], ["not shipped"]
    c, t, e = o["carrier"], o["tracking_number"], o["eta"]
    if lang == "zh":
        return (
            _pick(
                r,
                (
                    "订单 {o} 由 {c} 配送，物流单号 {t}，预计 {e} 送达。",
                    "您的包裹由 {c} 承运，单号 {t}，预计 {e} 到达。",
                ),
                o=oid,
                c=c,
                t=t,
                e=e,
            ),
            [t, e],
            [],
        )
    return (
        _pick(
            r,
            (
                "Order {o} ships with {c}; the tracking number is {t} and it should arrive by {e}.",
                "Your package is with {c}, tracking number {t}, expected on {e}.",
            ),
            o=oid,
            c=c,
            t=t,
            e=e,
        ),
        [t, e],
        [],
    )


def _products(r: random.Random, w: World, f: dict[str, Any], n: int) -> list[dict[str, Any]]:
    ps = [w.product() for _ in range(n)]
    f["products"] = ps
    return ps


def b_search(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if r.random() < 0.08:
        f["products"] = []
        f["note"] = "没有找到匹配的商品" if lang == "zh" else "no matching products"
        if lang == "zh":
            return "抱歉，没有找到符合的商品，可以换个关键词试试吗？", [], ["没有找到"]
        return "Sorry, I couldn't find a matching product. Could you describe it another way?", [], ["couldn't find"]
    ps = _products(r, w, f, r.choice((1, 2, 3, 3)))
    req: list[str] = []
    bits = []
    for p in ps:
        t = product_title(p, lang)
        bits.append(f"{t}（{_money(p)}）" if lang == "zh" else f"{t} ({_money(p)})")
        req += [t, _money(p)]
    if lang == "zh":
        return _pick(r, ("为您找到：{x}。", "这些商品可能适合您：{x}。"), x="、".join(bits)), req, []
    return (
        _pick(r, ("I found: {x}.", "Here is what we have: {x}.", "These might suit you: {x}."), x="; ".join(bits)),
        req,
        [],
    )


def b_question(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    (p,) = _products(r, w, f, 1)
    t = product_title(p, lang)
    if lang == "zh":
        p["description"] = p["description_zh"]
        d = p["description"]
        return _pick(r, ("{t}：{d}价格 {m}。", "关于 {t}：{d}"), t=t, d=d, m=_money(p)), [t, d], []
    d = p["description"]
    return _pick(r, ("The {t}: {d} It costs {m}.", "About the {t}: {d}"), t=t, d=d, m=_money(p)), [t, d], []


def b_recommend(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    ps = _products(r, w, f, r.choice((2, 3)))
    a, b = ps[0], ps[1]
    ta, tb = product_title(a, lang), product_title(b, lang)
    if lang == "zh":
        return (
            _pick(
                r,
                ("推荐 {a}，售价 {m}；{b} 也是不错的选择。", "我推荐 {a}（{m}），另外 {b} 也值得一看。"),
                a=ta,
                b=tb,
                m=_money(a),
            ),
            [ta, _money(a), tb],
            [],
        )
    return (
        _pick(
            r,
            (
                "I'd recommend the {a} at {m}; the {b} is another good choice.",
                "Our pick is the {a} ({m}). You might also like the {b}.",
            ),
            a=ta,
            b=tb,
            m=_money(a),
        ),
        [ta, _money(a), tb],
        [],
    )


def b_price(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    (p,) = _products(r, w, f, 1)
    t, m = product_title(p, lang), _money(p)
    if lang == "zh":
        return _pick(r, ("{t} 的价格是 {m}。", "{t} 售价 {m}。"), t=t, m=m), [t, m], []
    return _pick(r, ("The {t} costs {m}.", "The price of the {t} is {m}.", "{t}: {m}."), t=t, m=m), [t, m], []


def b_stock(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    (p,) = _products(r, w, f, 1)
    t, n = product_title(p, lang), int(p["stock"])
    if n <= 0:
        if lang == "zh":
            return _pick(r, ("抱歉，{t} 目前缺货。", "{t} 暂时缺货，补货后可以再来看看。"), t=t), [t], ["缺货"]
        return (
            _pick(r, ("Sorry, the {t} is out of stock right now.", "The {t} is currently out of stock."), t=t),
            [t],
            ["out of stock"],
        )
    if lang == "zh":
        return _pick(r, ("{t} 有货，库存 {n} 件。", "有的，{t} 目前还有 {n} 件。"), t=t, n=n), [t, str(n)], []
    return (
        _pick(r, ("Yes, the {t} is in stock ({n} left).", "The {t} is available: {n} in stock."), t=t, n=n),
        [t, str(n)],
        [],
    )


def b_complaint(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if r.random() < 0.6:
        o = w.order(status=r.choice(("delivered", "shipped")))
        f["order"] = o
        f["slots"] = {"order_id": o["id"]}
        f["user_oid"] = o["id"] if r.random() < 0.8 else None
        if lang == "zh":
            return (
                _pick(
                    r,
                    (
                        "非常抱歉订单 {o} 给您带来不好的体验，我已记录问题，需要的话可以为您转人工客服。",
                        "很抱歉！订单 {o} 的问题我们会尽快处理，也可以为您转接人工客服。",
                    ),
                    o=o["id"],
                ),
                [o["id"]],
                ["抱歉"],
            )
        return (
            _pick(
                r,
                (
                    "I'm really sorry about order {o}. I've noted the problem, "
                    "and a human agent can follow up if you like.",
                    "Sorry for the trouble with order {o}. We will sort it out; I can also connect you to an agent.",
                ),
                o=o["id"],
            ),
            [o["id"]],
            ["sorry", "Sorry"],
        )
    if lang == "zh":
        return (
            _pick(
                r,
                (
                    "非常抱歉给您带来不好的体验，我可以为您转接人工客服处理。",
                    "很抱歉让您失望了，请告诉我订单号，我来帮您处理。",
                ),
            ),
            [],
            ["抱歉"],
        )
    return (
        _pick(
            r,
            (
                "I'm very sorry about this experience. I can connect you with a human agent to sort it out.",
                "Sorry to hear that. Please share your order number and I'll look into it.",
            ),
        ),
        [],
        ["sorry", "Sorry"],
    )


def b_human(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if lang == "zh":
        return _pick(r, ("好的，正在为您转接人工客服，请稍候。", "没问题，人工客服马上为您服务。")), [], ["人工"]
    return (
        _pick(
            r,
            (
                "Sure, I'm connecting you with a human agent now. Please wait a moment.",
                "No problem, a human agent will join this chat shortly.",
            ),
        ),
        [],
        ["agent"],
    )


def b_oos(r: random.Random, w: World, lang: str, f: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    if lang == "zh":
        return (
            _pick(
                r,
                (
                    "抱歉，我只能帮您处理订单、物流、退货和商品相关的问题。",
                    "这个问题我回答不了，我可以帮您查询订单或商品。",
                ),
            ),
            [],
            ["只能", "回答不了"],
        )
    return (
        _pick(
            r,
            (
                "Sorry, I can only help with orders, shipping, returns and our products.",
                "I can't help with that, but I'm happy to check an order or find a product for you.",
            ),
        ),
        [],
        ["only help", "can't help"],
    )


BUILDERS: dict[str, Builder] = {
    "greeting": b_greeting,
    "goodbye": b_goodbye,
    "thanks": b_thanks,
    "order_status": b_order_status,
    "cancel_order": b_cancel,
    "change_order": b_change,
    "return_request": b_return,
    "refund_status": b_refund,
    "shipping_info": b_shipping,
    "change_address": b_address,
    "payment_issue": b_payment,
    "product_search": b_search,
    "product_question": b_question,
    "recommendation": b_recommend,
    "price_question": b_price,
    "stock_availability": b_stock,
    "coupon": b_coupon,
    "complaint": b_complaint,
    "human_agent": b_human,
    "account_help": b_account,
    "out_of_scope": b_oos,
}
assert set(BUILDERS) == set(INTENTS)

FACT_FREE = ("greeting", "goodbye", "thanks", "human_agent", "out_of_scope")
SCHEDULE = tuple(i for i in INTENTS for _ in range(1 if i in FACT_FREE else 2))

_SMALLTALK = {
    "en": (
        ("hi", "Hello! How can I help you today?"),
        ("hello", "Hi! How can I help?"),
        ("thanks", "You're welcome, happy to help."),
    ),
    "zh": (("你好", "您好！请问有什么可以帮您？"), ("在吗", "在的，请问有什么可以帮您？"), ("谢谢", "不客气！")),
}


def make_sample(seed: int, split: str, index: int, intent: str | None = None, lang: str | None = None) -> Sample:
    """Sample `index` of (seed, split): intents and languages cycle so every batch mixes them.

    Training weights intents that copy facts twice as often as fact-free ones (greetings are learnt
    in a few steps; copying ids and titles is what needs the updates)."""
    r = random.Random(f"kefu-responder:{seed}:{split}:{index}")
    intent = intent or SCHEDULE[(index // 2) % len(SCHEDULE)]
    lang = lang or LANGS[index % 2]
    w = World(r, heldout=(split != "train"))
    f: dict[str, Any] = {}
    reply, required, markers = BUILDERS[intent](r, w, lang, f)
    products = f.get("products") or []
    for p in products:
        desc_zh = p.pop("description_zh", "")
        p.pop("category_zh", None)
        if lang == "zh":
            p["description"] = desc_zh
    history: list[Turn] = []
    if r.random() < 0.3:
        u, b = r.choice(_SMALLTALK[lang])
        history.append(Turn(user=u, bot=b))
    user = _user_text(r, intent, lang, f.get("user_oid"), products[0] if products else None)
    ctx = ReplyContext(
        lang=lang,
        intent=intent,
        user_text=user,
        slots=f.get("slots") or {},
        order=f.get("order"),
        products=products,
        policy=f.get("policy"),
        history=history,
        note=f.get("note"),
    )
    messages = build_messages(ctx)
    return Sample(
        intent=intent,
        lang=lang,
        ctx=ctx,
        messages=messages,
        reply=reply,
        required=required,
        markers=markers,
        delex=delexicalise(reply, parse_facts(messages[0]["content"])),
    )


def generate(n: int, seed: int = 0, split: str = "train", uniform: bool = False) -> list[Sample]:
    """n samples; `uniform` gives every (intent, language) the same share (for evaluation)."""
    if uniform:
        k = len(INTENTS)
        return [make_sample(seed, split, i, INTENTS[i % k], LANGS[(i // k) % 2]) for i in range(n)]
    return [make_sample(seed, split, i) for i in range(n)]


def iter_samples(seed: int = 0, split: str = "train", start: int = 0) -> Iterator[Sample]:
    i = start
    while True:
        yield make_sample(seed, split, i)
        i += 1


def corpus_hash(samples: list[Sample]) -> str:
    h = hashlib.sha256()
    for s in samples:
        h.update(json.dumps([s.messages, s.reply], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


DRILL_ASK = {
    "en": ("Repeat the {what} line exactly.", "Copy the {what} facts.", "What does the {what} line say?"),
    "zh": ("请原样复述{what}这一行。", "复制{what}的信息。", "{what}那一行写的是什么？"),
}


def make_drill(seed: int, index: int) -> Sample:
    """A copy drill: the reply repeats one FACTS line verbatim (intent `repeat`).

    Copying a contiguous span is the purest form of the skill every grounded reply needs (ids,
    prices, titles); early in training these drills form the attention circuit that finds "the
    same place in the context" far faster than the sparse copies inside ordinary replies.
    """
    from kefu.prompting import render_order, render_product

    r = random.Random(f"kefu-responder-drill:{seed}:{index}")
    lang = LANGS[index % 2]
    w = World(r, heldout=False)
    order = w.order() if r.random() < 0.6 else None
    products = [w.product() for _ in range(r.choice((0, 1, 2, 3) if order else (1, 2, 3)))]
    for p in products:
        desc_zh = p.pop("description_zh", "")
        p.pop("category_zh", None)
        if lang == "zh":
            p["description"] = desc_zh
    options: list[tuple[str, str]] = []
    if order:
        options.append(("订单" if lang == "zh" else "order", render_order(order, lang)))
    for i, p in enumerate(products, 1):
        options.append((f"商品{i}" if lang == "zh" else f"product {i}", render_product(p, lang)))
    what, line = r.choice(options)
    ctx = ReplyContext(
        lang=lang,
        intent="repeat",
        user_text=r.choice(DRILL_ASK[lang]).format(what=what),
        order=order,
        products=products,
    )
    return Sample(intent="repeat", lang=lang, ctx=ctx, messages=build_messages(ctx), reply=line, required=[line])
