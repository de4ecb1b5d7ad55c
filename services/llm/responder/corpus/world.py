"""The fake shop the corpus samples from: products, orders and policy sentences drawn at random.

Every fact is drawn fresh for each sample so a reply can only be right by copying it from the
context. `World(heldout=True)` draws ids, brands and catalog products that training never sees.
Half the products and some policies come from the bundled catalog and help content (kefu/data)
when that package is present.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from kefu.prompting import DESC_CHARS, clip_sentences
from kefu.vocab import Intent, order_ids
from kefu.vocab.orders import DEFAULT_PATTERN, STATUSES

LANGS = ("en", "zh")
# The demo shop's ids (`KF` + 6 digits): the world writes them, and the bundled phrasings carry them.
ORDER_IDS = order_ids(DEFAULT_PATTERN)

BRANDS_TRAIN = (
    "Aurora", "Zenith", "Nimbus", "Vela", "Orion", "Lumen", "Koda", "Pebble", "Atlas", "Mira",
    "Solace", "Juniper", "Tundra", "Cobalt", "Harbor", "Ember", "Quill", "Sable", "Fjord", "Nova",
    "Birch", "Cinder", "Delta", "Echo", "Falcon", "Grove", "Helix", "Iris", "Jasper", "Kestrel",
    "Lark", "Maple", "Nexa", "Opal", "Pioneer", "Quartz", "Raven", "Sierra", "Terra", "Umber",
    "Vireo", "Willow", "Xeno", "Yarrow", "Zephyr", "Aster", "Bolt", "Crest", "Dune", "Elm",
)
# Never in training: the held-out split copies names the model has not seen.
BRANDS_HELDOUT = (
    "Marlow", "Tavi", "Brisk", "Corvo", "Ondine", "Pylon", "Rune", "Selva", "Tocca", "Vanta",
    "Wren", "Yuki", "Zorra", "Alcove", "Brume",
)
ADJECTIVES = (
    ("Wireless", "无线"), ("Compact", "迷你"), ("Classic", "经典"), ("Ultra", "超轻"), ("Pro", "专业"),
    ("Smart", "智能"), ("Portable", "便携"), ("Premium", "高级"), ("Waterproof", "防水"),
    ("Foldable", "折叠"), ("Organic", "有机"), ("Ergonomic", "人体工学"),
)
# (english, chinese, category, description template); {n} is a random number.
PRODUCT_TYPES = (
    ("Earbuds", "蓝牙耳机", "audio", ("Battery lasts {n} hours per charge.", "续航{n}小时。")),
    ("Headphones", "头戴耳机", "audio", ("Noise cancelling with {n} hours of playback.", "主动降噪，播放{n}小时。")),
    ("Speaker", "音箱", "audio",
     ("Delivers {n} watts of sound and pairs over Bluetooth.", "输出功率{n}瓦，支持蓝牙。")),
    ("Running Shoes", "跑鞋", "shoes", ("Weighs {n}0 grams with a cushioned sole.", "重量{n}0克，鞋底缓震。")),
    ("Hiking Boots", "登山靴", "shoes", ("Waterproof leather, sizes 36 to 4{n}.", "防水皮革，尺码36到4{n}。")),
    ("Backpack", "双肩包", "bags", ("Holds {n} liters and fits a 15-inch laptop.", "容量{n}升，可放15寸笔记本。")),
    ("Travel Mug", "保温杯", "kitchen", ("Keeps drinks hot for {n} hours.", "保温{n}小时。")),
    ("Coffee Grinder", "磨豆机", "kitchen", ("Has {n} grind settings.", "有{n}档研磨粗细。")),
    ("Desk Lamp", "台灯", "home", ("Offers {n} brightness levels and a USB port.", "{n}档亮度，带USB接口。")),
    ("Yoga Mat", "瑜伽垫", "sports", ("Is {n} mm thick and non-slip.", "厚度{n}毫米，防滑。")),
    ("Smart Watch", "智能手表", "wearables",
     ("Tracks heart rate; battery lasts {n} days.", "支持心率监测，续航{n}天。")),
    ("Power Bank", "充电宝", "electronics",
     ("Stores {n}000 mAh and charges two devices.", "容量{n}000毫安，可同时充两台设备。")),
    ("Keyboard", "键盘", "electronics", ("Mechanical switches, {n} keys.", "机械轴，{n}键。")),
    ("Rain Jacket", "冲锋衣", "clothing",
     ("Packs into its pocket and weighs {n}00 grams.", "可收纳进口袋，重{n}00克。")),
    ("T-Shirt", "T恤", "clothing", ("Made of {n}0% cotton.", "含棉量{n}0%。")),
    ("Blender", "破壁机", "kitchen", ("Has a {n}00-watt motor.", "电机功率{n}00瓦。")),
)
CARRIERS = (  # (name, prefix, digits) shaped like the bundled orders' tracking numbers
    ("UPS", "1Z", 16),
    ("FedEx", "", 12),
    ("DHL", "", 10),
    ("USPS", "9400", 18),
    ("SF Express", "SF", 13),
)
CURRENCIES = ("USD", "USD", "USD", "CNY", "EUR")

# The policy topic an intent's reply quotes.
POLICY_TOPIC: dict[str, str] = {
    Intent.RETURN_REQUEST: "returns",
    Intent.REFUND_STATUS: "refunds",
    Intent.SHIPPING_INFO: "shipping",
    Intent.PAYMENT_ISSUE: "payment",
    Intent.COUPON: "coupons",
    Intent.ACCOUNT_HELP: "account",
}
# Policy sentences with random numbers; the first sentence of the rendered policy is what a
# reply must copy. Real policy sections from kefu/data are mixed in when that package exists.
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


@lru_cache(maxsize=1)
def real_policies() -> dict[str, dict[str, str]]:
    """lang -> topic -> the bundled help section on it (empty without kefu/data)."""
    out: dict[str, dict[str, str]] = {"en": {}, "zh": {}}
    try:
        import kefu.data as kd
    except ImportError:
        return out
    for lang in LANGS:
        try:
            sections = kd.policy_sections(lang)
        except Exception:  # the data package may be half-written while we build
            continue
        for topic, words in _POLICY_KEYWORDS.items():
            for title in sorted(sections):
                if any(w in title.lower() for w in words) and sections[title].strip():
                    out[lang][topic] = sections[title]
                    break
    return out


@lru_cache(maxsize=1)
def real_catalog() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held-out) products of the bundled catalog, split 4:1 by id."""
    try:
        import kefu.data as kd

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
    train, held = real_catalog()
    return sorted({p.get("brand", "") for p in train + held if p.get("brand")})


def first_sentence(text: str) -> str:
    m = re.search(r"^.+?[.!?。！？](?=\s|$|[^\d])", text)
    return (m.group(0) if m else text).strip()


class World:
    """Random facts for one sample; `heldout` draws ids and brands training never sees."""

    def __init__(self, rng: random.Random, heldout: bool) -> None:
        self.rng = rng
        self.heldout = heldout

    def order_id(self) -> str:
        lo, hi = (900000, 999999) if self.heldout else (100000, 899999)
        return f"{ORDER_IDS.prefix}{self.rng.randint(lo, hi)}"

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

    def stock(self) -> int:
        r = self.rng
        return 0 if r.random() < 0.2 else r.choice((r.randint(1, 9), r.randint(10, 250)))

    def product(self) -> dict[str, Any]:
        """Half the time a bundled catalog product (title, brand, description; id, price and stock
        drawn fresh), else a synthetic one. The held-out split only uses products training never sees."""
        real = real_catalog()[1 if self.heldout else 0]
        if real and self.rng.random() < 0.5:
            return self._catalog_product(self.rng.choice(real))
        return self._synthetic_product()

    def _catalog_product(self, p: dict[str, Any]) -> dict[str, Any]:
        attrs = p.get("attributes") or {}
        stock = self.stock()
        desc = clip_sentences(first_sentence(p.get("description") or ""), DESC_CHARS)
        return {
            "id": self.product_id(), "title": p["title"], "description": desc, "description_zh": desc,
            "category": p.get("category", ""), "category_zh": attrs.get("category_zh", ""),
            "brand": p.get("brand", ""), "price": self.price(), "currency": "USD", "stock": stock,
            "attributes": {"title_zh": attrs["title_zh"]} if attrs.get("title_zh") else {},
        }

    def _synthetic_product(self) -> dict[str, Any]:
        r = self.rng
        brand = r.choice(BRANDS_HELDOUT if self.heldout else BRANDS_TRAIN)
        adj_en, adj_zh = r.choice(ADJECTIVES)
        type_en, type_zh, category, (desc_en, desc_zh) = r.choice(PRODUCT_TYPES)
        n = r.randint(2, 9) if re.search(r"\{n\}\d|\d\{n\}", desc_en) else r.randint(3, 60)
        with_adj = r.random() < 0.8 and adj_en not in type_en
        title = f"{brand} {adj_en} {type_en}" if with_adj else f"{brand} {type_en}"
        title_zh = f"{brand} {adj_zh}{type_zh}" if with_adj else f"{brand} {type_zh}"
        stock = self.stock()
        attrs: dict[str, Any] = {"title_zh": title_zh} if r.random() < 0.85 else {}
        return {
            "id": self.product_id(), "title": title, "description": desc_en.format(n=n),
            "description_zh": desc_zh.format(n=n), "category": category, "brand": brand, "price": self.price(),
            "currency": r.choice(CURRENCIES), "stock": stock, "attributes": attrs,
        }

    def order(self, status: str | None = None, refund: str | None = None) -> dict[str, Any]:
        r = self.rng
        status = status or r.choice(STATUSES)
        items = [self._item() for _ in range(r.choice((1, 1, 1, 2)))]
        created = self.day()
        order: dict[str, Any] = {
            "id": self.order_id(), "email": "", "status": status, "items": items,
            "total": round(sum(i["price"] * i["qty"] for i in items), 2), "currency": r.choice(CURRENCIES),
            "carrier": None, "tracking_number": None, "created_at": created.isoformat() + "T10:00:00Z",
            "eta": None, "delivered_at": None, "refund_status": None,
        }
        if status in ("shipped", "delivered", "refunded"):
            self._ship(order, created)
        if status == "refunded":
            order["refund_status"] = refund or r.choice(("completed", "completed", "processing", "pending"))
        elif refund:
            order["refund_status"] = refund
        return order

    def _item(self) -> dict[str, Any]:
        p = self.product()
        return {"product_id": p["id"], "title": p["title"], "title_zh": p["attributes"].get("title_zh", p["title"]),
                "qty": self.rng.choice((1, 1, 2)), "price": p["price"]}

    def _ship(self, order: dict[str, Any], created: date) -> None:
        """Carrier, tracking number, eta and (once delivered) the delivery time of a sent order."""
        r = self.rng
        carrier, prefix, digits = r.choice(CARRIERS)
        order["carrier"] = carrier
        order["tracking_number"] = prefix + "".join(r.choice("0123456789") for _ in range(digits))
        if carrier == "UPS" and r.random() < 0.5:  # UPS numbers carry letters too
            alnum = "0123456789ABCDEFGHJKLMNPRTUVWXY"
            order["tracking_number"] = "1Z" + "".join(r.choice(alnum) for _ in range(16))
        shipped = created + timedelta(days=r.randint(1, 3))
        order["eta"] = (shipped + timedelta(days=r.randint(2, 7))).isoformat()
        if order["status"] in ("delivered", "refunded"):
            order["delivered_at"] = (shipped + timedelta(days=r.randint(2, 6))).isoformat() + "T15:30:00Z"

    def policy(self, topic: str, lang: str) -> str:
        r = self.rng
        real = real_policies()[lang].get(topic)
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
