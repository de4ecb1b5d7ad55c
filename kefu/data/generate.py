"""Writes kefu's bundled demo data from the hand-written vocabularies in this package.

Run ``python -m kefu.data.generate`` after editing a vocabulary; the output is committed so
services start without a build step, and a test regenerates it to prove the files match.
Everything is seeded: the same code always writes the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import random
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kefu.data import _catalog_spec as cs
from kefu.data import _intent_templates as it
from kefu.data import _intent_templates_fine as fine
from kefu.data._policy_text import POLICY_EN, POLICY_ZH
from kefu.data.public_intents import eval_texts, normalise
from kefu.vocab.orders import DEFAULT_PATTERN, OrderIds

SEED = 20261001
EN_PER_INTENT = 100
ZH_PER_INTENT = 80
# The finer taxonomy-v2 labels have fewer hand-written cores each: a smaller quota keeps their rows
# varied instead of near-copies of a few phrasings.
FINE_EN_PER_INTENT = 60
FINE_ZH_PER_INTENT = 50
# Answers and chit-chat stay bare: no "hi, " lead-in or " asap" tail.
BARE_INTENTS = frozenset(it.CHAT_INTENTS | {"affirm", "deny", "inform", "chit_chat", "praise", "abusive_language"})
N_ORDERS = 260
_DEMO_ORDER_PREFIX = OrderIds(DEFAULT_PATTERN).prefix  # not the setting: the files must not depend on it

# ------------------------------------------------------------------------------ intents
_SLOT = re.compile(r"\{(\w+)\}")


def demo_order_id(number: int) -> str:
    """The demo shop writes its order ids in kefu.vocab's default pattern (`KF` + six digits)."""
    return f"{_DEMO_ORDER_PREFIX}{number}"


def _demo_order_ids(rng: random.Random) -> list[str]:
    """Mostly real demo order ids, some unknown ones (shoppers mistype and mis-remember)."""
    ids = [demo_order_id(100001 + i) for i in range(N_ORDERS)]
    ids += [demo_order_id(rng.randint(100000, 999999)) for _ in range(40)]
    return ids


def _slot_values(rng: random.Random) -> dict[str, list[str]]:
    order_ids = _demo_order_ids(rng)
    return {
        "order": order_ids, "days": it.DAYS, "zdays": it.ZH_DAYS,
        "product": [p[0] for p in it.EN_PRODUCTS], "products": [p[1] for p in it.EN_PRODUCTS],
        "a_product": [p[2] for p in it.EN_PRODUCTS], "zp": it.ZH_PRODUCTS, "brand": it.BRANDS,
        "color": it.COLORS_EN, "color2": it.COLORS_EN, "zcolor": it.COLORS_ZH,
        "size": it.SIZES, "size2": it.SIZES, "price": it.PRICES, "price2": it.PRICES,
        "zprice": it.ZH_PRICES, "zprice2": it.ZH_PRICES, "use": it.USES_EN, "zuse": it.USES_ZH,
        "person": it.PERSONS_EN, "zperson": it.PERSONS_ZH, "country": it.COUNTRIES_EN,
        "zcountry": it.COUNTRIES_ZH, "city": it.CITIES_EN, "zcity": it.CITIES_ZH,
        "address": it.ADDRESSES_EN, "zaddress": it.ADDRESSES_ZH, "code": it.CODES,
        "percent": it.PERCENTS, "pay": it.PAY_EN, "zpay": it.PAY_ZH, "carrier": it.CARRIERS,
        "weekday": it.WEEKDAYS, "team": it.TEAMS_EN, "zteam": it.TEAMS_ZH, "topic": it.TOPICS_EN,
        "age": it.AGES, "hi": it.EN_HI, "bye": it.EN_BYE, "ty": it.EN_TY, "zhi": it.ZH_HI,
        "zhi2": it.ZH_HI, "zbye": it.ZH_BYE, "zty": it.ZH_TY,
    }


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    chosen: dict[str, str] = {}

    def pick(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in chosen:
            options = slots[name]
            value = rng.choice(options)
            # "price2"/"size2"/"color2" must differ from their first slot
            base = name[:-1] if name.endswith("2") else None
            while base and chosen.get(base) == value and len(options) > 1:
                value = rng.choice(options)
            if name in ("price2", "zprice2") and base in chosen:
                bigger = [o for o in options if float(o) > float(chosen[base])]
                value = rng.choice(bigger) if bigger else value
            chosen[name] = value
        return chosen[name]

    return _SLOT.sub(pick, template)


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for i, w in enumerate(words):
        bare = w.strip("?!.,:")
        if bare.lower() in it.EN_MISSPELLINGS and rng.random() < 0.7:
            words[i] = w.replace(bare, it.EN_MISSPELLINGS[bare.lower()])
            return " ".join(words)
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.5 else w[:j] + w[j + 1:]
    return " ".join(words)


def _affix(text: str, intent: str, rng: random.Random, prefixes: list[str], p_prefix: float,
           suffixes: list[str], p_suffix: float, end_marks: str) -> str:
    """A shopper's lead-in ("hi, ") or tail (" asap") around a request; chit-chat stays bare."""
    if intent not in BARE_INTENTS:
        if rng.random() < p_prefix:
            text = rng.choice(prefixes) + text
        if rng.random() < p_suffix:
            text = text.rstrip(end_marks) + rng.choice(suffixes)
    return text


def _casualize_en(text: str, intent: str, rng: random.Random) -> str:
    text = _affix(text, intent, rng, it.EN_PREFIXES, 0.22, it.EN_SUFFIXES, 0.18, "?!.")
    r = rng.random()
    if r < 0.25:
        text = text[0].upper() + text[1:]
    elif r < 0.35:
        text = text.rstrip("?!.")
    if rng.random() < 0.1:
        text = _typo(text, rng)
    if rng.random() < 0.04:
        text = text.upper()
    return text


def _casualize_zh(text: str, intent: str, rng: random.Random) -> str:
    text = _affix(text, intent, rng, it.ZH_PREFIXES, 0.25, it.ZH_SUFFIXES, 0.2, "？?！!。")
    if rng.random() < 0.08:
        text = text.replace("，", " ")
    return text


def build_intents(rng: random.Random) -> list[dict[str, str]]:
    """Every intent gets its quota per language; cores are cycled so none dominates.

    Rows also carry "core" (which hand-written phrasing they came from, not written to the CSV)
    so an evaluation can hold out whole phrasings instead of near-copies.
    """
    slots = _slot_values(rng)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    # A phrasing that happens to equal an evaluation text ("包邮吗", "no") is not generated: the
    # model must never have trained on a message it is judged on.
    forbidden = eval_texts()
    for lang, table, quota, casual in (
        ("en", it.EN, EN_PER_INTENT, _casualize_en),
        ("en", fine.EN_FINE, FINE_EN_PER_INTENT, _casualize_en),
        ("zh", it.ZH, ZH_PER_INTENT, _casualize_zh),
        ("zh", fine.ZH_FINE, FINE_ZH_PER_INTENT, _casualize_zh),
    ):
        for intent, cores in table.items():
            # One stream per (language, intent): new phrasings for one intent leave every other
            # intent's rows as they were, so an experiment measures its own change (with one shared
            # stream, English edits redrew all the Chinese rows and moved the pass rate by ±0.02).
            draw = random.Random(f"{SEED}/{lang}/{intent}")
            pool = list(cores)
            draw.shuffle(pool)
            made = 0
            misses = 0
            while made < quota:
                core = pool[made % len(pool)] if misses == 0 else draw.choice(pool)
                text = casual(_fill(core, slots, draw), intent, draw).strip()
                text = re.sub(r"\s+", " ", text)
                key = text.lower()
                if key in seen or normalise(text) in forbidden:
                    misses += 1
                    if misses > 5000:
                        raise RuntimeError(f"not enough variety for {intent}/{lang}: {made}")
                    continue
                misses = 0
                seen.add(key)
                rows.append({"text": text, "label": intent, "lang": lang,
                             "core": f"{lang}/{intent}/{cores.index(core)}"})
                made += 1
    return rows


# ------------------------------------------------------------------------------ catalog
def _price(rng: random.Random, lo: float, hi: float) -> float:
    """Log-uniform, with the endings real shops use."""
    raw = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    ending = rng.choice([0.99, 0.99, 0.99, 0.0, 0.5, 0.95])
    value = math.floor(raw) + ending
    if ending == 0.0 and raw > 100:
        value = round(raw / 5) * 5.0
    return round(max(value, lo), 2)


UNCOLORED = ("skincare", "books")
_COLOR_ZH = dict(cs.COLORS)


def _lower_type(type_en: str) -> str:
    """'Vitamin C Serum' -> 'vitamin C serum': keep acronyms, lower the rest."""
    return " ".join(w if w.isupper() else w.lower() for w in type_en.split())


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


@dataclass(frozen=True)
class _Name:
    """How one product is called: the parts drawn for it and the titles made of them."""

    brand: str
    model: str
    type_en: str
    type_zh: str
    aud_en: str
    aud_zh: str
    title: str
    title_zh: str


def _draw_name(cat: cs.Category, rng: random.Random) -> _Name:
    brand = rng.choice(cat.brands)
    model = rng.choice(cat.models)
    type_en, type_zh = rng.choice(cat.types)
    aud_en, aud_zh = rng.choice(cat.audiences) if cat.audiences else ("", "")
    if cat.name == "books":
        title = f"{model} ({type_en})"
        title_zh = f"《{model}》{type_zh}"
    else:
        gen = str(rng.randint(2, 9)) if rng.random() < 0.6 else rng.choice(["", "Pro", "Lite", "Max", "X"])
        name = " ".join(p for p in (brand, model, gen) if p)
        title = " ".join(p for p in (name, aud_en, type_en) if p)
        title_zh = f"{name} {aud_zh}{type_zh}"
    return _Name(brand, model, type_en, type_zh, aud_en, aud_zh, title, title_zh)


@dataclass(frozen=True)
class _Traits:
    """What a product is like (colour, material, two features, a use), drawn after its name."""

    color: str
    material_en: str
    material_zh: str
    f1: str
    f2: str
    use: str


def _draw_traits(cat: cs.Category, name: _Name, colors: list[str], rng: random.Random) -> _Traits:
    color = rng.choice(colors)
    material_en, material_zh = rng.choice(cat.materials)
    if cat.name == "books":  # the binding is part of the title; keep them consistent
        material_en, material_zh = cat.materials[0 if "Paperback" not in name.type_en else 1]
    f1, f2 = rng.sample(cat.features, 2)
    return _Traits(color, material_en, material_zh, f1, f2, rng.choice(cat.uses))


def _opener(cat: cs.Category, name: _Name, t: _Traits, rng: random.Random) -> str:
    """The first sentence: what it is and what for, in the grammatical number of its type."""
    t_low = _lower_type(name.type_en if cat.name != "books" else name.type_en.split(",")[0])
    ref = name.model if name.model.startswith("The ") else f"The {name.model}"
    if t_low.endswith("s") and not t_low.endswith("ss"):
        return rng.choice([
            f"Designed for {t.use}, these {t_low} pair {t.f1} with {t.f2}.",
            f"{t_low.capitalize()} for {t.use} with {t.f1} and {t.f2}.",
            f"{ref} {t_low} are made for {t.use}, featuring {t.f1} and {t.f2}.",
        ])
    return rng.choice([
        f"Designed for {t.use}, this {t_low} pairs {t.f1} with {t.f2}.",
        f"{_article(t_low).capitalize()} {t_low} for {t.use} with {t.f1} and {t.f2}.",
        f"{ref} is our {t_low} for {t.use}, featuring {t.f1} and {t.f2}.",
    ])


def _middle(cat: cs.Category, name: _Name, t: _Traits, rng: random.Random) -> str:
    """The second sentence: what it is made of (an ingredient, an edition, a colourway)."""
    if cat.name == "skincare":
        return rng.choice([f"Key ingredient: {t.material_en}.", f"Formulated with {t.material_en}."])
    if cat.name == "books":
        return f"{t.material_en.capitalize()} edition, published by {name.brand}."
    color = t.color.lower()
    return rng.choice([
        f"Made from {t.material_en} in {color}.",
        f"The {color} colourway uses {t.material_en}.",
        f"Built from {t.material_en}; shown here in {color}.",
    ])


def _description(cat: cs.Category, name: _Name, t: _Traits, rng: random.Random) -> str:
    sentences = [_opener(cat, name, t, rng), _middle(cat, name, t, rng)]
    if cat.specs:
        spec = rng.choice(cat.specs)
        values = {k: rng.choice(v) for k, v in cs.SPEC_RANGES.items()}
        sentences.append(spec.format(**values))
    elif cat.sizes:
        sentences.append(f"Available in sizes {cat.sizes[0]} to {cat.sizes[-1]}.")
    return " ".join(sentences)


def _attributes(cat: cs.Category, name: _Name, t: _Traits, rng: random.Random) -> dict[str, Any]:
    """The filterable facts; a sized product comes in a run of at least three consecutive sizes."""
    attributes: dict[str, Any] = {}
    if cat.name not in UNCOLORED:
        attributes.update(color=t.color, color_zh=_COLOR_ZH[t.color])
    attributes.update(material=t.material_en, material_zh=t.material_zh)
    if cat.sizes:
        k = rng.randint(max(3, len(cat.sizes) - 4), len(cat.sizes))
        start = rng.randint(0, len(cat.sizes) - k)
        attributes["sizes"] = cat.sizes[start:start + k]
    if name.aud_en:
        attributes["gender"] = name.aud_en.rstrip("'s").lower()
    attributes["features"] = [t.f1, t.f2]
    attributes["title_zh"] = name.title_zh
    attributes["category_zh"] = cat.zh
    return attributes


def _product(cat: cs.Category, pid: str, name: _Name, colors: list[str], rng: random.Random) -> dict[str, Any]:
    """One catalog row. The draws happen in a fixed order (traits, description, attributes,
    price, stock): the bundled files are regenerated byte for byte from the seed."""
    traits = _draw_traits(cat, name, colors, rng)
    description = _description(cat, name, traits, rng)
    attributes = _attributes(cat, name, traits, rng)
    return {
        "id": pid,
        "title": name.title,
        "description": description,
        "category": cat.name,
        "brand": name.brand,
        "price": _price(rng, *cat.price),
        "currency": "USD",
        "stock": 0 if rng.random() < 0.1 else rng.randint(1, 240),
        "url": f"/p/{pid}",
        "image_url": "",
        "attributes": attributes,
    }


def build_catalog(rng: random.Random) -> list[dict[str, Any]]:
    """Each category's quota of products with distinct titles (a repeated title is drawn again)."""
    products: list[dict[str, Any]] = []
    titles: set[str] = set()
    for cat in cs.CATEGORIES:
        colors = cat.colors or [c for c, _ in cs.COLORS]
        made = 0
        while made < cat.count:
            name = _draw_name(cat, rng)
            if name.title in titles:
                continue
            titles.add(name.title)
            made += 1
            products.append(_product(cat, f"P{len(products) + 1:05d}", name, colors, rng))
    return products


# ------------------------------------------------------------------------------- orders
FIRST = ["Avery", "Jordan", "Mia", "Liam", "Noah", "Emma", "Olivia", "Lucas", "Sofia", "Ethan",
         "Chloe", "Mason", "Zoe", "Wei", "Li", "Mei", "Jun", "Hana", "Ravi", "Priya", "Diego",
         "Lena", "Omar", "Nina", "Theo", "Grace", "Sam", "Ivy", "Leo", "Ada"]
LAST = ["Carter", "Nguyen", "Chen", "Wang", "Garcia", "Patel", "Kim", "Muller", "Rossi", "Brooks",
        "Hughes", "Zhang", "Liu", "Okafor", "Silva", "Novak", "Reyes", "Fischer", "Park", "Lee"]
STREETS = ["Maple", "Cedar", "Willow", "Harbor", "Juniper", "Aspen", "Birch", "Lakeview", "Orchard",
           "Sycamore", "Chestnut", "Meadow", "Ridge", "Foxglove", "Linden"]
STREET_KINDS = ["St", "Ave", "Rd", "Ln", "Ct", "Blvd", "Way"]
US_CITIES = [("Portland", "OR", "972"), ("Austin", "TX", "787"), ("Denver", "CO", "802"),
             ("Madison", "WI", "537"), ("Raleigh", "NC", "276"), ("Boise", "ID", "837"),
             ("Columbus", "OH", "432"), ("Sacramento", "CA", "958"), ("Burlington", "VT", "054"),
             ("Tucson", "AZ", "857"), ("Seattle", "WA", "981"), ("Brooklyn", "NY", "112")]
INTL = [("Toronto", "ON M5V 2T6", "Canada"), ("Berlin", "10115", "Germany"),
        ("Shanghai", "200120", "China"), ("Melbourne", "VIC 3000", "Australia"),
        ("London", "SW1A 2AA", "United Kingdom"), ("Singapore", "018989", "Singapore")]
STATUS_WEIGHTS = [("pending", 12), ("paid", 14), ("shipped", 24), ("delivered", 28),
                  ("cancelled", 10), ("refunded", 12)]
# The first orders cover every status so demos and tests can name them without searching.
FIRST_STATUSES = ["shipped", "delivered", "pending", "paid", "cancelled", "refunded"]


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tracking(carrier: str, rng: random.Random) -> str:
    digits = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    if carrier == "UPS":
        alnum = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXY0123456789") for _ in range(6))
        return f"1Z{alnum}{digits(10)}"
    if carrier == "FedEx":
        return digits(12)
    if carrier == "DHL":
        return digits(10)
    if carrier == "USPS":
        return "9400" + digits(18)
    return "SF" + digits(13)


def _add_business_days(dt: datetime, days: int) -> datetime:
    while days > 0:
        dt += timedelta(days=1)
        if dt.weekday() < 5:
            days -= 1
    return dt


def _customer(rng: random.Random) -> tuple[str, str, str]:
    """(first name, last name, email) of an invented shopper."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = rng.choice(["example.com", "example.com", "example.org"])
    sep = rng.choice([".", "_", ""])
    email = f"{first.lower()}{sep}{last.lower()}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{domain}"
    return first, last, email


@dataclass
class _ShipTo:
    address: str
    postcode: str
    carrier: str
    international: bool


def _ship_to(first: str, last: str, rng: random.Random) -> _ShipTo:
    """Mostly the US, some abroad with the carriers that go there."""
    street = f"{rng.randint(3, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"
    if rng.random() < 0.15:
        city, postcode, country = rng.choice(INTL)
        address = f"{first} {last}, {street}, {city} {postcode}, {country}"
        code = postcode.split()[-1] if country == "Australia" else postcode  # "VIC 3000": the state is no code
        return _ShipTo(address, code, rng.choice(["DHL", "SF Express"]), True)
    city, state, zip3 = rng.choice(US_CITIES)
    code = f"{zip3}{rng.randint(10, 99)}"
    return _ShipTo(f"{first} {last}, {street}, {city}, {state} {code}, United States", code,
                   rng.choice(["UPS", "FedEx", "USPS", "DHL"]), False)


def _phone(email: str) -> str:
    """A fake phone number derived from the email (no draw from the RNG: the rest stays the same)."""
    digits = str(int(hashlib.sha256(email.encode()).hexdigest(), 16))[-7:]
    return f"+1 555-{digits[:3]}-{digits[3:]}"


def _items(catalog: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    items = []
    for product in rng.sample(catalog, rng.choices([1, 2, 3], [55, 30, 15])[0]):
        qty = rng.choices([1, 2, 3], [80, 15, 5])[0]
        items.append({"product_id": product["id"], "title": product["title"], "qty": qty,
                      "price": product["price"]})
    return items


def _created_at(status: str, start: datetime, rng: random.Random) -> datetime:
    """Recent orders are the ones still pending, paid or shipped."""
    if status in ("pending", "paid"):
        created = datetime(2026, 12, 10, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 5 * 24 * 60))
    elif status == "shipped":
        created = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 9 * 24 * 60))
    else:
        created = start + timedelta(minutes=rng.randint(0, 65 * 24 * 60))
    return created.replace(second=rng.randint(0, 59))


@dataclass
class _Timeline:
    ships: bool
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    eta: datetime | None = None


def _timeline(status: str, created: datetime, international: bool, rng: random.Random) -> _Timeline:
    """When it shipped, arrived or should arrive; a refunded order has shipped more often than not."""
    days = 1 if rng.random() < 0.2 else rng.randint(3, 5)
    abroad = 4 if international else 0
    t = _Timeline(ships=status in ("shipped", "delivered") or (status == "refunded" and rng.random() < 0.6))
    if t.ships:
        t.shipped_at = created + timedelta(hours=rng.randint(3, 40))
        t.eta = _add_business_days(t.shipped_at, days + abroad).replace(hour=20, minute=0, second=0)
        if status != "shipped":
            t.delivered_at = max(t.eta - timedelta(hours=rng.randint(2, 30)), t.shipped_at + timedelta(hours=20))
    elif status in ("pending", "paid"):
        t.eta = _add_business_days(created, days + 2 + abroad).replace(hour=20, minute=0, second=0)
    return t


def _refund_status(status: str, rng: random.Random) -> str | None:
    if status == "refunded":
        return rng.choices(["completed", "processing"], [70, 30])[0]
    if status == "cancelled":
        return "completed" if rng.random() < 0.5 else None
    if status == "delivered" and rng.random() < 0.15:
        return rng.choice(["return_requested", "return_received"])
    return None


def _order(i: int, status: str, catalog: list[dict[str, Any]], start: datetime, rng: random.Random) -> dict[str, Any]:
    """One order row; the draws happen in a fixed order so the bundled file regenerates byte for byte."""
    first, last, email = _customer(rng)
    ship = _ship_to(first, last, rng)
    carrier = ship.carrier
    items = _items(catalog, rng)
    created = _created_at(status, start, rng)
    t = _timeline(status, created, ship.international, rng)
    refund_status = _refund_status(status, rng)
    return {
        "id": demo_order_id(100001 + i),
        "email": email,
        "phone": _phone(email),
        "postcode": ship.postcode,
        "status": status,
        "items": items,
        "total": round(sum(x["qty"] * x["price"] for x in items), 2),
        "currency": "USD",
        "carrier": carrier if t.ships else None,
        "tracking_number": _tracking(carrier, rng) if t.ships else None,
        "shipping_address": ship.address,
        "created_at": _iso(created),
        "shipped_at": _iso(t.shipped_at) if t.shipped_at else None,
        "delivered_at": _iso(t.delivered_at) if t.delivered_at else None,
        "eta": _iso(t.eta) if t.eta else None,
        "refund_status": refund_status,
    }


def build_orders(rng: random.Random, catalog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    orders: list[dict[str, Any]] = []
    for i in range(N_ORDERS):
        status = FIRST_STATUSES[i] if i < len(FIRST_STATUSES) else rng.choices(statuses, weights)[0]
        orders.append(_order(i, status, catalog, start, rng))
    return orders


# -------------------------------------------------------------------------------- write
def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["text", "label", "lang"], lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def generate(out_dir: Path) -> dict[str, int]:
    """Write every bundled file under out_dir; returns row counts for the progress line."""
    out_dir = Path(out_dir)
    (out_dir / "policy").mkdir(parents=True, exist_ok=True)
    intents = build_intents(random.Random(SEED))
    catalog = build_catalog(random.Random(SEED + 1))
    orders = build_orders(random.Random(SEED + 2), catalog)
    files = {
        "intents.csv": _csv(intents),
        "catalog.jsonl": _jsonl(catalog),
        "orders.jsonl": _jsonl(orders),
        "policy/en.md": POLICY_EN,
        "policy/zh.md": POLICY_ZH,
    }
    for name, text in files.items():
        (out_dir / name).write_bytes(text.encode("utf-8"))
    return {"intents": len(intents), "products": len(catalog), "orders": len(orders)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent,
                        help="directory to write into (default: the kefu/data package)")
    args = parser.parse_args(argv)
    counts = generate(args.out)
    print(f"wrote {counts['intents']} utterances, {counts['products']} products, "
          f"{counts['orders']} orders to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
