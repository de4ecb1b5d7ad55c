"""Topic-only messages get one clarifying question; specific ones do not."""

from __future__ import annotations

import pytest

from gateway.templates import social
from gateway.turn.understand.vague import is_vague


@pytest.mark.parametrize("text", ["it is about payment issue", "Order or Payment related query", "Product Quality",
                                  "I have an issue with an item", "订单问题", "付款有问题"])
def test_topic_only_messages_are_vague(text: str) -> None:
    assert is_vague(text, None)


@pytest.mark.parametrize("text", ["my order is late", "payment failed twice", "where is my order",
                                  "quality of the shoes is great", "很好没问题", "hi",
                                  "the quality is bad and the zipper broke after one week of use, what now"])
def test_specific_or_long_messages_are_not(text: str) -> None:
    assert not is_vague(text, None)


def test_a_message_with_an_order_is_not_vague() -> None:
    assert not is_vague("issue with order KF100001", "KF100001")


@pytest.mark.parametrize(("intent", "lang"), [("payment_issue", "en"), ("complaint", "zh"), ("order_status", "en"),
                                              ("coupon", "zh")])
def test_the_clarifying_question_is_a_question(intent: str, lang: str) -> None:
    text = social.clarify(intent, lang)
    assert "?" in text or "？" in text
