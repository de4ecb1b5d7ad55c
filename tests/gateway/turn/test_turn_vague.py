"""Topic-only messages get one clarifying question; specific ones do not."""

from __future__ import annotations

import pytest

from gateway.templates import social
from gateway.turn.decide import Situation, decide
from gateway.turn.model import IntentGuess, Understanding
from gateway.turn.understand import read_orders
from gateway.turn.understand.vague import is_vague, unclear_payment, unsure_about_shopping


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


@pytest.mark.parametrize(("text", "unclear"), [("Yaa am already paid", True),
                                               ("I just paid for some products but they are not in my orders", True),
                                               ("my payment failed twice", False), ("do you accept paypal", False),
                                               ("付款失败了怎么办", False), ("我已经付过钱了", True)])
def test_a_payment_message_without_what_went_wrong_is_unclear(text: str, unclear: bool) -> None:
    assert unclear_payment(text, "payment_issue", None) is unclear
    assert not unclear_payment(text, "payment_issue", "KF100001")  # with an order, the order answers
    assert not unclear_payment(text, "coupon", None)


def test_an_unsure_out_of_scope_reading_about_shopping_gets_a_question() -> None:
    """Out of scope only because no label was sure, in words about buying or orders: one question,
    not "I can't help with that"; the model's own out_of_scope, the keyword fallback and words about
    nothing here keep the plain answer."""
    paid = "I just paid for some products but they are not visible in my orders"
    assert unsure_about_shopping(paid, "out_of_scope", "rerank", "place_order")
    assert unsure_about_shopping("这个多少钱", "out_of_scope", "rerank", "price_question")
    assert not unsure_about_shopping(paid, "out_of_scope", "fasttext", "out_of_scope")
    assert not unsure_about_shopping(paid, "out_of_scope", "fallback", "place_order")
    assert not unsure_about_shopping("what is the capital of peru", "out_of_scope", "rerank", "international_shipping")
    u = understood_oos(paid)
    assert u.vague and decide(u, Situation()).clarify


def understood_oos(text: str) -> Understanding:
    guess = IntentGuess("out_of_scope", 0.45, "rerank", [{"label": "place_order", "score": 0.45}])
    u = Understanding(text=text, standalone=text, lang="en", intent=guess)
    return read_orders(u, "email")
