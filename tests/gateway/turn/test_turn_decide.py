"""`decide` as a table: (understanding, situation) → decision. Plain objects, no processes."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.turn.decide import Situation, conclude, decide
from gateway.turn.model import ActionPlan, Goal, IntentGuess, Move, TurnFacts, Understanding
from kefu.contracts import Turn


def u(intent: str, text: str = "...", *, order_id: str | None = None, referenced: list[str] | None = None,
      angry: bool = False, history: list[Turn] | None = None, standalone: str | None = None,
      factors: dict | None = None, answer: str | None = None, address: str | None = None,
      reason: str = "other", slots: dict | None = None) -> Understanding:
    return Understanding(text=text, standalone=standalone or text, lang="en", intent=IntentGuess(intent, 0.9),
                         order_id=order_id, referenced=referenced or [], angry=angry, history=history or [],
                         factors=factors or {}, answer=answer, address=address, reason=reason, slots=slots or {})


CANCEL = ActionPlan("cancel", "KF100002", {}, key="m1")
CONFIRMING = Goal("cancel_order", "confirm", "KF100002", CANCEL)
VERIFYING = Goal("order_status", "verify", "KF100001")
WAITING_ID = Goal("return_request", "order_id", params={"reason": "faulty"})


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
     {"move": Move.ANSWER, "order_id": "KF100001", "use_order": True, "propose": None, "action": None}),
    ("order status without id asks", u("order_status"), None, {"move": Move.ASK, "order_id": None}),
    ("a signed-in shopper's order is looked up by customer", u("order_status"), Situation(customer="a@b.c"),
     {"move": Move.ANSWER, "list_orders": True}),
    ("cancel with id offers, never acts", u("cancel_order", order_id="KF100002"), None,
     {"move": Move.ANSWER, "propose": ActionPlan("cancel", "KF100002"), "action": None, "policy": "cancel_order"}),
    ("cancel without id asks", u("cancel_order"), None, {"move": Move.ASK, "action": None}),
    ("a draft never offers an action", u("cancel_order", order_id="KF100002"), Situation(drafting=True),
     {"move": Move.ANSWER, "propose": None, "action": None, "use_order": True}),
    ("yes to a pending cancel acts with its key", u("greeting", "yes", answer="yes"), Situation(goal=CONFIRMING),
     {"move": Move.ACT, "action": CANCEL, "intent": "cancel_order", "order_id": "KF100002", "propose": None}),
    ("no to a pending cancel declines", u("out_of_scope", "no", answer="no"), Situation(goal=CONFIRMING),
     {"move": Move.ANSWER, "declined": True, "action": None, "propose": None}),
    ("another subject drops the pending cancel", u("product_search", "show me shoes"), Situation(goal=CONFIRMING),
     {"action": None, "declined": False, "search": "show me shoes", "intent": "product_search"}),
    ("the email continues verification", u("account_help", "my email is a@b.c", factors={"email": "a@b.c"}),
     Situation(goal=VERIFYING), {"intent": "order_status", "order_id": "KF100001", "use_order": True}),
    ("an order id continues the faulty-item return", u("greeting", "it's KF100007", order_id="KF100007"),
     Situation(goal=WAITING_ID), {"intent": "return_request", "order_id": "KF100007",
                                   "propose": ActionPlan("return", "KF100007", {"reason": "faulty", "variant": {}})}),
    ("a new order question replaces the goal", u("order_status", "where is KF100009", order_id="KF100009"),
     Situation(goal=WAITING_ID), {"intent": "order_status", "order_id": "KF100009", "propose": None}),
    ("address change carries the new address", u("change_address", order_id="KF100004", address="1 Main St 90210"),
     None, {"propose": ActionPlan("address", "KF100004", {"address": "1 Main St 90210"})}),
    ("size change on an order is an exchange", u("change_order", order_id="KF100004", slots={"size": "M"}), None,
     {"propose": ActionPlan("exchange", "KF100004", {"reason": "other", "variant": {"size": "M"}})}),
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
    ("out of scope twice answers (and the reply offers a person)", u("out_of_scope", history=OOS_BEFORE), None,
     {"move": Move.ANSWER, "handoff_reason": None}),
    ("out of scope long ago does not", u("out_of_scope", history=OOS_BEFORE + [Turn(user=f"q{i}", intent="greeting")
                                                                         for i in range(4)]), None,
     {"move": Move.ANSWER}),
]


@pytest.mark.parametrize(("name", "und", "situation", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decide(name: str, und: Understanding, situation: Situation | None, expected: dict) -> None:
    d = decide(und, situation)
    for field, want in expected.items():
        assert getattr(d, field) == want, (name, field, getattr(d, field))
    if "intent" not in expected and situation is None:
        assert d.intent == und.intent.name


TODAY = date(2026, 12, 2)
SHIPPED = {"id": "KF100001", "status": "shipped", "total": 50.0, "items": []}
PAID = {"id": "KF100002", "status": "paid", "total": 80.0, "items": [{"title": "Jacket", "qty": 1}]}
DELIVERED = {"id": "KF100007", "status": "delivered", "delivered_at": "2026-11-20", "total": 40.0,
             "items": [{"title": "Jacket", "qty": 1}]}
OLD = {**DELIVERED, "delivered_at": "2026-10-01"}


def facts(order: dict | None = None, **kw: object) -> TurnFacts:
    verified = kw.pop("verified", order is not None)
    return TurnFacts(order=order if verified else None, found=(order or {}).get("id"), verified=bool(verified),
                     **kw)  # type: ignore[arg-type]


CONCLUDE = [
    ("status of a verified order answers", u("order_status", order_id="KF100001"), Situation(verified=["KF100001"]),
     facts(SHIPPED), {"move": Move.ANSWER, "goal": None}),
    ("an unverified order asks for the factor and waits", u("order_status", order_id="KF100001"), Situation(),
     facts(SHIPPED, verified=False), {"move": Move.VERIFY, "goal": Goal("order_status", "verify", "KF100001")}),
    ("a wrong factor asks again", u("order_status", order_id="KF100001", factors={"email": "x@y.z"}), Situation(),
     facts(SHIPPED, verified=False, verify_failed=True), {"move": Move.VERIFY}),
    ("a locked order keeps waiting, without the facts", u("order_status", order_id="KF100001"), Situation(),
     facts(SHIPPED, verified=False, locked=True), {"move": Move.VERIFY, "goal.step": "verify"}),
    ("a newly verified order is remembered", u("order_status", order_id="KF100001"), Situation(),
     facts(SHIPPED, newly_verified=True), {"move": Move.ANSWER, "verified": ["KF100001"]}),
    ("a missing order says so", u("order_status", order_id="KF999999"), Situation(),
     TurnFacts(order_missing=True), {"move": Move.ANSWER, "goal": None}),
    ("a cancellable order is offered for a yes", u("cancel_order", order_id="KF100002"),
     Situation(verified=["KF100002"], message_id="m9"), facts(PAID),
     {"move": Move.CONFIRM, "goal": Goal("cancel_order", "confirm", "KF100002", ActionPlan("cancel", "KF100002",
                                                                                            {}, key="m9"))}),
    ("a shipped order cannot be cancelled: no offer", u("cancel_order", order_id="KF100001"),
     Situation(verified=["KF100001"]), facts(SHIPPED), {"move": Move.ANSWER, "refusal": "shipped", "goal": None}),
    ("a faulty return inside the window is free", u("return_request", order_id="KF100007", reason="faulty"),
     Situation(verified=["KF100007"], today=TODAY), facts(DELIVERED),
     {"move": Move.CONFIRM, "offer.fee": 0.0, "offer.deadline": "2026-12-20"}),
    ("a return for another reason costs the fee", u("return_request", order_id="KF100007"),
     Situation(verified=["KF100007"], today=TODAY), facts(DELIVERED), {"move": Move.CONFIRM, "offer.fee": 6.95}),
    ("past the window no return is offered", u("return_request", order_id="KF100007"),
     Situation(verified=["KF100007"], today=TODAY), facts(OLD), {"move": Move.ANSWER, "refusal": "window_closed"}),
    ("an address change without the address asks for it", u("change_address", order_id="KF100002"),
     Situation(verified=["KF100002"]), facts(PAID), {"move": Move.ASK, "goal.step": "address"}),
    ("an order intent without an order waits for its id", u("return_request", reason="faulty"), Situation(),
     TurnFacts(), {"move": Move.ASK, "goal": Goal("return_request", "order_id",
                                                  params={"reason": "faulty", "variant": {}})}),
    ("the confirmed action ends the goal", u("greeting", "yes", answer="yes"), Situation(goal=CONFIRMING,
                                                                                       verified=["KF100002"]),
     facts(PAID, action={"kind": "cancel", "ok": True}), {"move": Move.ACT, "goal": None}),
    ("a declined action ends the goal", u("greeting", "no", answer="no"), Situation(goal=CONFIRMING),
     facts(PAID), {"move": Move.ANSWER, "goal": None}),
    ("a handoff stays a handoff", u("human_agent"), Situation(), TurnFacts(), {"move": Move.HANDOFF}),
    ("out of scope again offers a person, for a yes", u("out_of_scope", history=OOS_BEFORE), Situation(),
     TurnFacts(), {"move": Move.ANSWER, "goal": Goal("human_agent", "confirm")}),
    ("out of scope once offers nothing", u("out_of_scope"), Situation(), TurnFacts(),
     {"move": Move.ANSWER, "goal": None}),
]


def _get(obj: object, path: str) -> object:
    for part in path.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)  # type: ignore[index]
    return obj


@pytest.mark.parametrize(("name", "und", "situation", "f", "expected"), CONCLUDE, ids=[c[0] for c in CONCLUDE])
def test_conclude(name: str, und: Understanding, situation: Situation, f: TurnFacts, expected: dict) -> None:
    out = conclude(und, situation, decide(und, situation), f)
    for path, want in expected.items():
        assert _get(out, path) == want, (name, path, _get(out, path))


def test_out_of_scope_asks_the_knowledge_base_only_with_a_high_bar() -> None:
    """A message no label covers may be about the shop's own help content: the knowledge base is
    asked with the out_of_scope hint (under which only an FAQ asked in its own words answers); the
    keyword fallback asks nothing."""
    d = decide(u("out_of_scope", "is there a loyalty program?"))
    assert d.policy == "out_of_scope"
    fallback = u("out_of_scope", "what's the weather tomorrow")
    fallback.intent.stage = "fallback"
    assert decide(fallback).policy is None
