"""The shop's order rules: what may be cancelled, re-addressed or returned, and why not."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from gateway.orders.rules import BUNDLED, load_rules, return_reason
from kefu.data import policy_sections

R = load_rules()


def test_bundled_rules_say_what_the_policy_text_says() -> None:
    rules = json.loads(BUNDLED.read_text())
    en = policy_sections("en")
    assert f"within {rules['return_window_days']} days" in en["returns"]
    assert f"${rules['return_fee']:.2f}" in en["returns"]
    assert "pending or paid" in en["cancellations"]
    zh = " ".join(policy_sections("zh").values())
    assert str(rules["return_window_days"]) in zh and f"{rules['return_fee']:.2f}" in zh


def test_cancel_and_address() -> None:
    assert R.can_cancel({"status": "paid"}) == (True, "cancellable")
    assert R.can_cancel({"status": "shipped"}) == (False, "shipped")
    assert R.can_cancel({"status": "cancelled"}) == (False, "already_cancelled")
    assert R.can_change_address({"status": "pending"})[0] and not R.can_change_address({"status": "delivered"})[0]


def test_return_window_and_fee() -> None:
    order = {"status": "delivered", "delivered_at": "2026-11-20"}
    assert R.return_deadline(order) == date(2026, 12, 20)
    assert R.can_return(order, date(2026, 12, 20)) == (True, "returnable")
    assert R.can_return(order, date(2026, 12, 21)) == (False, "window_closed")
    assert R.can_return({"status": "shipped"}, date(2026, 12, 1)) == (False, "shipped")
    assert R.return_fee_for("faulty") == 0.0 and R.return_fee_for("other") == 6.95


@pytest.mark.parametrize(("text", "reason"), [
    ("the zipper on my new jacket broke", "faulty"), ("it arrived damaged", "damaged"),
    ("you sent me the wrong size", "wrong_item"), ("拉链坏了", "faulty"), ("收到的时候就破损了", "damaged"),
    ("发错颜色了", "wrong_item"), ("I just don't like it", "other"),
])
def test_return_reason(text: str, reason: str) -> None:
    assert return_reason(text) == reason


def test_rules_match_policy_numbers_in_chinese_too() -> None:
    zh = policy_sections("zh")
    assert any(re.search(r"30\s*天", t) for t in zh.values())


def test_shipping_rules_say_what_the_policy_text_says() -> None:
    rules = json.loads(BUNDLED.read_text())
    en, zh = policy_sections("en")["shipping"], policy_sections("zh")["shipping"]
    fee, over = rules['standard_shipping_fee'], rules['free_shipping_over']
    assert f"costs ${fee:.2f}; it is free on orders over ${over:g}" in en
    assert f"运费 {rules['standard_shipping_fee']:.2f} 美元；订单满 {rules['free_shipping_over']:g} 美元免运费" in zh


def test_shipping_quote() -> None:
    assert R.shipping_for(42.0) == {"subtotal": 42.0, "fee": 5.99, "total": 47.99, "free": False, "free_over": 50.0,
                                    "standard_fee": 5.99}
    assert R.shipping_for(50.0)["total"] == 55.99  # "over $50": exactly $50 still pays shipping
    assert R.shipping_for(62.5)["free"] and R.shipping_for(62.5)["total"] == 62.5
