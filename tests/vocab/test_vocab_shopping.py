"""Constraints read from a shopper's words (kefu/vocab/shopping.py): the cases the generated
shopping conversations (gateway/evaluation/shopping_gen.py) found misread."""

from __future__ import annotations

import pytest

from kefu.vocab.shopping import constraints, price_bounds


@pytest.mark.parametrize(("text", "want"), [
    ("不超过60元", {"price_max": 60.0}),  # was a cap and a floor of 60: nothing shown
    ("nothing over $80", {"price_max": 80.0}),  # was a floor
    ("not more than 50 dollars", {"price_max": 50.0}),
    ("不低于50元", {"price_min": 50.0}),
    ("over 50", {"price_min": 50.0}),
    ("less than $90, over 20", {"price_max": 90.0, "price_min": 20.0}),
    ("100-200元", {"price_min": 100.0, "price_max": 200.0}),
])
def test_price_bounds(text: str, want: dict[str, float]) -> None:
    assert price_bounds(text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("我想买牛仔裤", {"category": "jeans"}),  # 牛仔 inside 牛仔裤 is no material filter
    ("牛仔外套", {"category": "jackets", "material": "denim"}),
    ("你们卖床品吗", {"category": "bedding"}),
    ("不要皮的靴子", {"material_not": "leather", "category": "boots"}),
])
def test_constraints(text: str, want: dict[str, object]) -> None:
    assert constraints(text) == want
