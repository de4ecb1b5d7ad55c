"""Query understanding: price ranges (en + zh), stock, category (head noun), brand."""

from __future__ import annotations

import pytest

from services.retrieval.query import Vocabulary, category_parts, parse_query

VOCAB = Vocabulary(
    {"Shoes": "Shoes", "Running Shoes": "Running Shoes", "Sofas": "Sofas", "Beds": "Beds", "跑鞋": "Running Shoes",
     "沙发": "Sofas", "Bed Accessories": "Bed Accessories"},
    {"Nike": "Nike", "Acme Home": "Acme Home"},
)


@pytest.mark.parametrize("query,lo,hi,text", [
    ("sofa under 500", None, 500, "sofa"),
    ("sofa below $100", None, 100, "sofa"),
    ("lamp less than 30 dollars", None, 30, "lamp"),
    ("desk lamp up to 45.50", None, 45.5, "desk lamp"),
    ("mugs at most 20 usd", None, 20, "mugs"),
    ("chairs 50 or less", None, 50, "chairs"),
    ("tv over 1k", 1000, None, "tv"),
    ("rug more than $200", 200, None, "rug"),
    ("between 20 and 50 dollars lamp", 20, 50, "lamp"),
    ("lamp $20-$50", 20, 50, "lamp"),
    ("lamp from 20 to 50", 20, 50, "lamp"),
    ("耳机50元以下", None, 50, "耳机"),
    ("100元以内的耳机", None, 100, "耳机"),
    ("低于200元的台灯", None, 200, "台灯"),
    ("不超过300块的鞋", None, 300, "鞋"),
    ("500元以上的沙发", 500, None, "沙发"),
    ("价格在100到200元之间的包", 100, 200, "包"),
    ("台灯 50-80元", 50, 80, "台灯"),
])
def test_price_ranges(query: str, lo: float | None, hi: float | None, text: str) -> None:
    p = parse_query(query)
    assert (p.filters.price_min, p.filters.price_max) == (lo, hi)
    assert p.text == text


@pytest.mark.parametrize("query", ["2 piece statue set", "6 seater dining table", "size 10 shoes", "iphone 15",
                                   "under armour", "set of 4 chairs"])
def test_numbers_that_are_not_prices(query: str) -> None:
    p = parse_query(query)
    assert p.filters.price_min is None and p.filters.price_max is None and p.text == query


@pytest.mark.parametrize("query,in_stock,text", [
    ("headphones in stock", True, "headphones"),
    ("in-stock sofa", True, "sofa"),
    ("有货的耳机", True, "耳机"),
    ("现货 沙发", True, "沙发"),
    ("stock pot", None, "stock pot"),
])
def test_in_stock(query: str, in_stock: bool | None, text: str) -> None:
    p = parse_query(query)
    assert p.filters.in_stock is in_stock and p.text == text


@pytest.mark.parametrize("query,category,brand", [
    ("running shoes for kids", "Running Shoes", None),
    ("nike shoes", "Shoes", "Nike"),
    ("shoes", "Shoes", None),
    ("bed risers", None, None),  # "bed" modifies "risers": not the product type
    ("upholstered beds", "Beds", None),
    ("bed accessories", "Bed Accessories", None),
    ("Acme Home sofa under 300", "Sofas", "Acme Home"),
    ("跑鞋 100元以下", "Running Shoes", None),
    ("有货的沙发", "Sofas", None),
    ("acme", None, None),
])
def test_category_and_brand(query: str, category: str | None, brand: str | None) -> None:
    p = parse_query(query, VOCAB)
    assert (p.filters.category, p.filters.brand) == (category, brand)
    if brand:
        assert brand.lower() not in p.text.lower()


def test_filter_only_query_keeps_something_to_rank_by() -> None:
    p = parse_query("Nike under 100", VOCAB)
    assert p.filters.brand == "Nike" and p.filters.price_max == 100 and p.text == "Nike"


def test_category_parts() -> None:
    assert category_parts("Benches|Shoe Storage") == ["Benches", "Shoe Storage"]
    assert category_parts("Home > Furniture > Beds") == ["Home", "Furniture", "Beds"]
    assert category_parts("") == []
