"""`decide` as a table: (understanding, situation) → decision. Plain objects, no processes."""

from __future__ import annotations

import pytest

from gateway.turn.decide import Situation, decide
from gateway.turn.model import IntentGuess, Move, Understanding
from kefu.contracts import Turn


def u(intent: str, text: str = "...", *, order_id: str | None = None, referenced: list[str] | None = None,
      angry: bool = False, history: list[Turn] | None = None, standalone: str | None = None) -> Understanding:
    return Understanding(text=text, standalone=standalone or text, lang="en", intent=IntentGuess(intent, 0.9),
                         order_id=order_id, referenced=referenced or [], angry=angry, history=history or [])


OOS_BEFORE = [Turn(user="what's the weather", intent="out_of_scope")]

CASES = [
    # (name, understanding, situation, expected fields)
    ("greeting answers", u("greeting"), None, {"move": Move.ANSWER, "search": None, "order_id": None}),
    ("search runs the catalog", u("product_search", "red shoes"), None,
     {"move": Move.ANSWER, "search": "red shoes", "product_ids": []}),
    ("reference reads shown products", u("price_question", "how much is the second one",
                                         referenced=["P2", "P3"], standalone="how much is Pacer Glide"), None,
     {"product_ids": ["P2", "P3"], "search": "how much is Pacer Glide", "prefer_ids": ["P2", "P3"]}),
    ("recommendation with a reference still searches", u("recommendation", "something like it", referenced=["P1"]),
     None, {"product_ids": [], "search": "something like it", "prefer_ids": ["P1"]}),
    ("order status looks the order up", u("order_status", order_id="KF100001"), None,
     {"move": Move.ANSWER, "order_id": "KF100001", "use_order": True, "cancel": False}),
    ("order status without id asks", u("order_status"), None, {"move": Move.ASK, "order_id": None}),
    ("cancel with id acts", u("cancel_order", order_id="KF100002"), None,
     {"move": Move.ACT, "cancel": True, "order_id": "KF100002", "policy": "cancel_order"}),
    ("cancel without id asks", u("cancel_order"), None, {"move": Move.ASK, "cancel": False}),
    ("a draft never cancels", u("cancel_order", order_id="KF100002"), Situation(drafting=True),
     {"move": Move.ANSWER, "cancel": False, "use_order": True}),
    ("return without id answers from policy", u("return_request"), None,
     {"move": Move.ASK, "policy": "return_request"}),
    ("payment question keeps a named order, never asks", u("payment_issue", order_id="KF100003"), None,
     {"move": Move.ANSWER, "use_order": True, "order_id": "KF100003", "policy": "payment_issue"}),
    ("payment question without id answers", u("payment_issue"), None, {"move": Move.ANSWER, "use_order": True}),
    ("complaint keeps the order", u("complaint", order_id="KF100004"), None,
     {"move": Move.ANSWER, "use_order": True, "order_id": "KF100004"}),
    ("an order id in a product question is not looked up", u("product_search", order_id="KF100005"), None,
     {"order_id": None, "use_order": False}),
    ("shipping info reads the policy", u("shipping_info"), None, {"move": Move.ANSWER, "policy": "shipping_info"}),
    ("asking for a person hands off", u("human_agent"), None,
     {"move": Move.HANDOFF, "handoff_reason": "asked_for_human"}),
    ("angry complaint hands off", u("complaint", angry=True), None,
     {"move": Move.HANDOFF, "handoff_reason": "angry_shopper"}),
    ("calm complaint does not", u("complaint"), None, {"move": Move.ANSWER, "handoff_reason": None}),
    ("out of scope once answers", u("out_of_scope"), None, {"move": Move.ANSWER}),
    ("out of scope twice hands off", u("out_of_scope", history=OOS_BEFORE), None,
     {"move": Move.HANDOFF, "handoff_reason": "out_of_scope_twice"}),
    ("out of scope long ago does not", u("out_of_scope", history=OOS_BEFORE + [Turn(user=f"q{i}", intent="greeting")
                                                                         for i in range(4)]), None,
     {"move": Move.ANSWER}),
]


@pytest.mark.parametrize(("name", "und", "situation", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decide(name: str, und: Understanding, situation: Situation | None, expected: dict) -> None:
    d = decide(und, situation)
    for field, want in expected.items():
        assert getattr(d, field) == want, (name, field, getattr(d, field))
    assert d.intent == und.intent.name
