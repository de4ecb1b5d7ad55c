"""The bundled demo data is what every service trains on, indexes and quotes; these checks keep
it big enough, internally consistent (orders match the catalog) and reproducible."""

from __future__ import annotations

import collections
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import kefu.data as data
from kefu.data import generate as generate_module
from kefu.data.generate import generate
from kefu.vocab import Intent

INTENTS = [
    "greeting", "goodbye", "thanks", "order_status", "cancel_order", "change_order",
    "return_request", "refund_status", "shipping_info", "change_address", "payment_issue",
    "product_search", "product_question", "recommendation", "price_question",
    "stock_availability", "coupon", "complaint", "human_agent", "account_help", "out_of_scope",
]
SECTIONS = ["returns", "refunds", "shipping", "payment", "cancellations", "order changes",
            "coupons", "account", "contact"]
TRACKING = {
    "UPS": r"1Z[0-9A-Z]{16}",
    "FedEx": r"\d{12}",
    "DHL": r"\d{10}",
    "USPS": r"94\d{20}",
    "SF Express": r"SF\d{13}",
}


@pytest.fixture(scope="module")
def intents() -> list[dict[str, str]]:
    return data.load_intents()


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    return data.load_catalog()


@pytest.fixture(scope="module")
def orders() -> list[dict]:
    return data.load_orders()


def test_intents_cover_every_intent_in_both_languages(intents: list[dict[str, str]]) -> None:
    assert set(intents[0]) == {"text", "label", "lang"}
    counts = collections.Counter((r["label"], r["lang"]) for r in intents)
    labels = {r["label"] for r in intents}
    assert labels >= set(INTENTS) and len(labels) >= 20
    for label in labels:  # the finer taxonomy-v2 labels have their own, smaller quota
        fine = label not in INTENTS
        assert counts[(label, "en")] >= (generate_module.FINE_EN_PER_INTENT if fine else 80), label
        assert counts[(label, "zh")] >= (generate_module.FINE_ZH_PER_INTENT if fine else 60), label
    assert labels == {i.value for i in Intent}  # every taxonomy label has phrasings
    assert {r["lang"] for r in intents} == {"en", "zh"}


def test_intent_utterances_are_unique_and_in_their_language(intents: list[dict[str, str]]) -> None:
    texts = [r["text"].strip().lower() for r in intents]
    assert len(texts) == len(set(texts))
    han = re.compile(r"[\u4e00-\u9fff]")
    for r in intents:
        assert r["text"].strip(), r
        if r["lang"] == "en":
            assert not han.search(r["text"]), r
        elif r["label"] not in generate_module.BARE_INTENTS:  # "88", "3q", "OK", a bare order number
            assert han.search(r["text"]), r


def test_intents_carry_order_ids_and_products(intents: list[dict[str, str]]) -> None:
    order_rows = [r for r in intents if r["label"] == "order_status"]
    with_id = [r for r in order_rows if re.search(r"\bKF\d{6}\b", r["text"])]
    assert len(with_id) >= 30
    assert any(re.search(r"元以下的", r["text"]) for r in intents if r["label"] == "product_search")


def test_catalog_size_fields_and_ids(catalog: list[dict]) -> None:
    assert len(catalog) >= 500
    ids = [p["id"] for p in catalog]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"P\d{5}", i) for i in ids)
    assert len({p["title"] for p in catalog}) == len(catalog)
    categories = collections.Counter(p["category"] for p in catalog)
    assert len(categories) >= 10
    assert all(n >= 20 for n in categories.values())
    for p in catalog:
        assert p["currency"] == "USD" and p["url"] == f"/p/{p['id']}"
        assert isinstance(p["price"], float) and p["price"] > 0
        assert isinstance(p["stock"], int) and p["stock"] >= 0
        assert len(p["description"].split(". ")) >= 2
        attrs = p["attributes"]
        assert attrs["title_zh"] and attrs["category_zh"] and attrs["material"]
        assert re.search(r"[\u4e00-\u9fff]", attrs["title_zh"])
    brands_per_cat = collections.defaultdict(set)
    for p in catalog:
        brands_per_cat[p["category"]].add(p["brand"])
    assert all(len(b) >= 2 for b in brands_per_cat.values())
    zero = sum(p["stock"] == 0 for p in catalog)
    assert 0.05 * len(catalog) <= zero <= 0.2 * len(catalog)


def test_running_shoes_exist_on_both_sides_of_100(catalog: list[dict]) -> None:
    prices = [p["price"] for p in catalog if p["category"] == "running shoes"]
    assert sum(x < 100 for x in prices) >= 5
    assert sum(x > 100 for x in prices) >= 5


def test_orders_are_consistent_with_the_catalog(orders: list[dict], catalog: list[dict]) -> None:
    assert len(orders) >= 200
    ids = [o["id"] for o in orders]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"KF\d{6}", i) for i in ids)
    assert {o["status"] for o in orders} == set(data.ORDER_STATUSES)
    by_id = {p["id"]: p for p in catalog}
    for o in orders:
        assert re.fullmatch(r"[\w.+-]+@example\.(com|org)", o["email"]), o["email"]
        assert o["items"] and o["currency"] == "USD" and o["shipping_address"]
        for item in o["items"]:
            product = by_id[item["product_id"]]
            assert item["price"] == product["price"] and item["title"] == product["title"]
            assert isinstance(item["qty"], int) and item["qty"] >= 1
        assert o["total"] == round(sum(i["qty"] * i["price"] for i in o["items"]), 2)


def test_order_lifecycle_fields(orders: list[dict]) -> None:
    lo, hi = datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)

    def when(value: str) -> datetime:
        assert value.endswith("Z")
        return datetime.fromisoformat(value)

    for o in orders:
        created = when(o["created_at"])
        for key in ("created_at", "shipped_at", "delivered_at", "eta"):
            if o[key]:
                assert lo <= when(o[key]) < hi, (o["id"], key)
        if o["status"] in ("shipped", "delivered"):
            assert re.fullmatch(TRACKING[o["carrier"]], o["tracking_number"]), o
            assert created < when(o["shipped_at"])
        if o["status"] == "shipped":
            assert o["eta"] and not o["delivered_at"]
        if o["status"] == "delivered":
            assert when(o["shipped_at"]) < when(o["delivered_at"])
        if o["status"] in ("pending", "paid", "cancelled"):
            assert o["carrier"] is None and o["tracking_number"] is None
        if o["status"] == "refunded":
            assert o["refund_status"] in ("processing", "completed")
    # the first six orders name one of each status, for demos and end-to-end tests
    assert [o["status"] for o in orders[:6]] == ["shipped", "delivered", "pending", "paid",
                                                 "cancelled", "refunded"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_policy_sections_in_both_languages(lang: str) -> None:
    sections = data.policy_sections(lang)
    assert list(sections) == SECTIONS
    for name, body in sections.items():
        assert body and "##" not in body, name
    assert "30" in sections["returns"] and "5–7" in sections["refunds"]
    assert "50" in sections["shipping"]
    assert data.policy_text(lang).count("## ") == len(SECTIONS)
    for intent, section in data.POLICY_TOPICS.items():
        assert intent in INTENTS and section in sections


def test_policy_rejects_unknown_language() -> None:
    with pytest.raises(ValueError):
        data.policy_text("fr")


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    generate(tmp_path)
    names = ["intents.csv", "catalog.jsonl", "orders.jsonl", "policy/en.md", "policy/zh.md"]
    for name in names:
        committed = (data.data_dir() / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, f"{name} is stale: run python -m kefu.data.generate"
