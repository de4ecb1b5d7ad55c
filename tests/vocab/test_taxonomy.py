"""Taxonomy v2: every label has a flow, and the help labels a question to stand for."""

from __future__ import annotations

from gateway.turn.model import IntentGuess
from kefu.vocab import HELP_QUESTIONS, PROBLEM_LABELS, SERVES, TAXONOMY_VERSION, Intent, group_of, serves
from kefu.vocab.topics import TOPIC_QUESTIONS, topic_question

FLOWS = {"product_search", "product_question", "recommendation", "price_question", "stock_availability",
         "order_status", "cancel_order", "change_order", "change_address", "refund_status", "return_request",
         "shipping_info", "payment_issue", "coupon", "account_help", "complaint", "human_agent", "greeting",
         "goodbye", "thanks", "out_of_scope"}


def test_seventy_two_labels_and_a_new_version() -> None:
    assert len(Intent) == 72 and TAXONOMY_VERSION.endswith("v2")
    assert FLOWS <= {i.value for i in Intent}


def test_every_mapped_label_is_served_by_a_v1_flow() -> None:
    assert set(SERVES.values()) <= FLOWS and not set(SERVES) & FLOWS
    assert serves("damaged_item") == "return_request" and serves("gift_card") == "gift_card"


def test_groups_follow_the_flow() -> None:
    assert "order" in group_of("damaged_item") and "product" in group_of("search_refinement")
    assert group_of("gift_card") == {"policy"}


def test_problem_and_help_labels_are_taxonomy_names() -> None:
    names = {i.value for i in Intent}
    assert PROBLEM_LABELS <= names and HELP_QUESTIONS <= names and set(TOPIC_QUESTIONS) <= names


def test_topic_questions_come_in_both_languages() -> None:
    assert topic_question("international_shipping", "en").startswith("Do you ship")
    assert "国外" in (topic_question("international_shipping", "zh") or "")
    assert topic_question("gift_card", "en") and topic_question("chit_chat", "en") is None


def test_the_public_intent_is_the_label_and_says_its_flow() -> None:
    g = IntentGuess("return_request", 0.9, "fasttext", label="damaged_item")
    assert g.public() == {"name": "damaged_item", "confidence": 0.9, "stage": "fasttext", "serves": "return_request"}
    assert "serves" not in IntentGuess("greeting", 0.9).public()
