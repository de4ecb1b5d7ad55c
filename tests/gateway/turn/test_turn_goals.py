"""Goals across turns and the shopper's mood, as plain objects: what the words mean for the goal
(a broken item is a return, not a search; "it's order X" answers "which order?"; "never mind"
drops it), how a side question leaves it pending, and what a frustrated or pleased shopper hears."""

from __future__ import annotations

from datetime import date

import pytest

from gateway import templates
from gateway.turn.decide import Situation, conclude, decide
from gateway.turn.model import Goal, IntentGuess, Move, TurnFacts, Understanding
from gateway.turn.phrase import reply_context
from gateway.turn.understand import read_orders
from gateway.turn.understand.goals import bare_order_reply, drops_goal
from gateway.turn.understand.sentiment import read


def understood(intent: str, text: str, *, order_id: str | None = None, lang: str = "en",
               factors: dict | None = None) -> Understanding:
    u = Understanding(text=text, standalone=text, lang=lang, intent=IntentGuess(intent, 0.8), order_id=order_id)
    read_orders(u, "email")
    if factors is not None:
        u.factors = factors
    return u


@pytest.mark.parametrize(("text", "label"), [
    ("worst experience ever, had to cancel my order", "frustrated"),
    ("this is ridiculous!! where is my parcel", "frustrated"),
    ("太差了，客服都不回", "frustrated"),
    ("not great, the box was open", "frustrated"),
    ("I need it by tomorrow, it's urgent", "urgent"),
    ("急！今天能发货吗", "urgent"),
    ("thanks, great service!", "praise"),
    ("收到了，很满意，谢谢你们", "praise"),
    ("where is my order KF100001", "neutral"),
    ("Can I apply two discount??", "neutral"),  # doubled question marks ask, they do not vent
    ("where is my order?!", "frustrated"),
    ("do you have running shoes in size 42", "neutral"),
])
def test_sentiment(text: str, label: str) -> None:
    assert read(text).label == label


@pytest.mark.parametrize(("model_intent", "text", "lang", "want"), [
    ("product_search", "the zipper on my new jacket broke, what can I do?", "en", "return_request"),
    ("product_question", "我新买的夹克拉链坏了，怎么办？", "zh", "return_request"),
    ("product_search", "the lamp arrived damaged", "en", "return_request"),
    ("order_status", "the tracking link is broken", "en", "order_status"),
    ("product_search", "show me waterproof jackets", "en", "product_search"),
    ("cancel_order", "worst experience, had to cancel my order after waiting two weeks", "en", "complaint"),
    ("cancel_order", "cancel my order please", "en", "cancel_order"),
    ("human_agent", "thanks, great service!", "en", "thanks"),
    ("human_agent", "great, but I want to talk to a person", "en", "human_agent"),
    ("deny", "not setisfied with uor", "en", "complaint"),
    ("out_of_scope", "They are not respond", "en", "complaint"),
    ("out_of_scope", "Yes my order id is KF100254", "en", "order_status"),
    ("shipping_info", "Do you deliver in Canada", "en", "international_shipping"),
    ("stock_availability", "Available in Pakistan ?", "en", "international_shipping"),
    ("delivery_area", "Do u have delivery at kerala", "en", "international_shipping"),
    ("shipping_info", "你们发货到加拿大吗", "zh", "international_shipping"),
    ("shipping_info", "do you ship to texas?", "en", "shipping_info"),
    ("product_search", "I need a warm jacket for my trip to Canada", "en", "product_search"),
    ("place_order", "I want to purchase some gym equipment", "en", "product_search"),
    ("out_of_scope", "Hindi?", "en", "chit_chat"),
    ("out_of_scope", "你们说普通话吗", "zh", "chit_chat"),
])
def test_the_words_correct_the_models_label(model_intent: str, text: str, lang: str, want: str) -> None:
    u = understood(model_intent, text, lang=lang)
    assert u.intent.name == want
    if want != model_intent:
        assert u.intent.model_intent == model_intent and u.intent.rule
        assert u.intent.evidence()["rule"] == u.intent.rule


def test_bare_order_replies_and_drops() -> None:
    assert bare_order_reply("it's order KF100007", "KF100007")
    assert bare_order_reply("订单号是 KF100007", "KF100007")
    assert bare_order_reply("KF100007.", "KF100007")
    assert not bare_order_reply("where is order KF100007", "KF100007")
    assert not bare_order_reply("cancel KF100007", "KF100007")
    assert not bare_order_reply("it's order", None)
    for text in ("never mind", "ok, forget it", "算了", "不用了，谢谢"):
        assert drops_goal(text), text
    for text in ("I don't mind the colour", "never received my parcel", "cancel order KF100002"):
        assert not drops_goal(text), text


FAULTY_RETURN = Goal("return_request", "order_id", params={"reason": "faulty"})
DELIVERED = {"id": "KF100007", "status": "delivered", "delivered_at": "2026-11-27", "total": 40.0,
             "currency": "USD", "items": [{"title": "Trail Jacket", "qty": 1}]}


def test_a_broken_item_starts_the_return_goal_and_asks_for_the_order() -> None:
    u = understood("product_search", "the zipper on my new jacket broke, what can I do?")
    d = decide(u, Situation())
    assert d.search is None and d.intent == "return_request" and d.move == Move.ASK
    out = conclude(u, Situation(), d, TurnFacts())
    assert out.goal is not None and (out.goal.step, out.goal.params["reason"]) == ("order_id", "faulty")
    text = templates.render(reply_context(u, d, TurnFacts(), out))
    assert "order number" in text and "sorry" in text.lower() and "Our returns policy" not in text


@pytest.mark.parametrize("model_intent", ["order_status", "greeting", "return_request"])
def test_its_order_x_continues_the_return_whatever_the_model_says(model_intent: str) -> None:
    u = understood(model_intent, "it's order KF100007", order_id="KF100007")
    d = decide(u, Situation(goal=FAULTY_RETURN))
    assert (d.intent, d.order_id, d.goal) == ("return_request", "KF100007", FAULTY_RETURN)
    assert d.propose is not None and d.propose.params["reason"] == "faulty"


def test_the_verified_return_states_date_window_free_shipping_and_next_step() -> None:
    s = Situation(verified=["KF100007"], today=date(2026, 12, 3), goal=Goal("return_request", "verify", "KF100007",
                                                                                params={"reason": "faulty"}))
    u = understood("account_help", "my email is a@b.c", factors={"email": "a@b.c"})
    d = decide(u, s)
    f = TurnFacts(order=DELIVERED, found="KF100007", verified=True)
    out = conclude(u, s, d, f)
    assert out.move == Move.CONFIRM
    text = templates.render(reply_context(u, d, f, out))
    for part in ("2026-11-27", "inside our 30-day return window", "2026-12-27",
                 "Because the item is faulty, return shipping is free", "Shall I start the return?"):
        assert part in text, (part, text)
    zh = templates.render(reply_context(understood("account_help", "我的邮箱是 a@b.c", lang="zh"), d, f, out)
                          .model_copy(update={"lang": "zh"}))
    assert "30 天退货期内" in zh and "退货运费由我们承担" in zh


def test_never_mind_drops_the_goal_and_says_so() -> None:
    for text, lang in (("never mind", "en"), ("算了", "zh")):
        u = understood("out_of_scope", text, lang=lang)
        s = Situation(goal=FAULTY_RETURN)
        d = decide(u, s)
        out = conclude(u, s, d, TurnFacts())
        assert d.dropped == "return_request" and out.goal is None and d.policy is None
        reply = templates.render(reply_context(u, d, TurnFacts(), out))
        assert ("stopped the return" in reply) if lang == "en" else ("退货先不办了" in reply)


def test_a_side_question_keeps_the_goal_a_new_request_switches_it() -> None:
    s = Situation(goal=FAULTY_RETURN)
    side = understood("shipping_info", "how long does shipping take?")
    assert conclude(side, s, decide(side, s), TurnFacts()).goal == FAULTY_RETURN
    new = understood("product_search", "show me running shoes")
    assert conclude(new, s, decide(new, s), TurnFacts()).goal is None
    other = understood("cancel_order", "cancel my other order KF100002", order_id="KF100002")
    d = decide(other, s)
    assert d.intent == "cancel_order" and d.goal is None
    confirm = Situation(goal=Goal("cancel_order", "confirm", "KF100002"))
    assert conclude(side, confirm, decide(side, confirm), TurnFacts()).goal is None  # a yes is needed now


def test_a_frustrated_shopper_is_offered_a_person_and_a_yes_hands_over() -> None:
    u = understood("shipping_info", "this is ridiculous, why does shipping take so long??")
    d = decide(u, Situation())
    f = TurnFacts(policy=("Shipping", "Standard shipping takes 3–5 business days."))
    out = conclude(u, Situation(), d, f)
    assert out.goal is not None and out.goal.intent == "human_agent"
    text = templates.render(reply_context(u, d, f, out))
    assert "sorry" in text.lower() and "person" in text and "3–5" not in text
    yes = understood("greeting", "yes", factors={})
    d2 = decide(yes, Situation(goal=out.goal))
    assert d2.move == Move.HANDOFF and d2.handoff_reason == "asked_for_human"


def test_venting_hands_over_with_an_apology_praise_does_not() -> None:
    u = understood("cancel_order", "worst experience, had to cancel because it never came")
    d = decide(u, Situation())
    assert d.move == Move.HANDOFF and d.handoff_reason == "angry_shopper" and d.propose is None
    text = templates.render(reply_context(u, d, TurnFacts(), conclude(u, Situation(), d, TurnFacts())), handoff=True)
    assert "sorry" in text and "order number" in text
    p = understood("human_agent", "thanks, great service!")
    d = decide(p, Situation())
    assert d.move == Move.ANSWER and d.handoff_reason is None
    assert "welcome" in templates.render(reply_context(p, d, TurnFacts()))


@pytest.mark.parametrize("text", ["我想买外套", "i want to buy a rain jacket"])
def test_buying_a_kind_of_thing_is_a_search(text: str) -> None:
    u = understood("place_order", text, lang="zh" if "外" in text else "en")
    assert u.intent.name == "product_search" and u.intent.rule == "buy_named_product"


@pytest.mark.parametrize("text", ["i i want to buy", "I would like to order from you", "我想买"])
def test_wanting_to_buy_nothing_named_gets_one_question(text: str) -> None:
    u = understood("place_order", text, lang="zh" if "买" in text else "en")
    assert u.intent.name == "place_order" and u.vague and decide(u, Situation()).clarify


@pytest.mark.parametrize("text", ["??", "❓❓❓", "..."])
def test_a_message_without_words_gets_one_question(text: str) -> None:
    u = understood("out_of_scope", text)
    assert u.vague and decide(u, Situation()).clarify


@pytest.mark.parametrize("text", ["好的，谢谢。", "ok thanks", "Okay, thank you!"])
def test_ok_thanks_to_the_offer_of_a_person_hands_over_no_one(text: str) -> None:
    offer = Goal("human_agent", "confirm", None)
    d = decide(understood("thanks", text, lang="zh" if "谢" in text else "en", factors={}), Situation(goal=offer))
    assert d.move != Move.HANDOFF and d.handoff_reason is None
    d = decide(understood("affirm", "yes please", factors={}), Situation(goal=offer))
    assert d.move == Move.HANDOFF and d.handoff_reason == "asked_for_human"


def test_how_to_order_stays_a_help_question() -> None:
    assert understood("place_order", "how do i place an order?").intent.name == "place_order"


def test_a_vague_payment_message_gets_one_question() -> None:
    u = understood("payment_issue", "it is about payment issue")
    d = decide(u, Situation())
    assert u.vague and d.clarify
    text = templates.render(reply_context(u, d, TurnFacts(), conclude(u, Situation(), d, TurnFacts())))
    assert "?" in text and "charged twice" in text


def test_a_second_need_from_the_llm_is_served_too() -> None:
    """Multi-label (the LLM's structured reading): an order question that is also a complaint is
    answered with an apology and a person on offer; its goal update "drop" drops the pending goal."""
    guess = IntentGuess("order_status", 0.7, "rerank", also=["complaint"], goal="new")
    u = Understanding(text="where is my parcel KF100007", standalone="where is my parcel KF100007", lang="en",
                      intent=guess, order_id="KF100007")
    read_orders(u, "email")
    assert u.angry and u.intent.public()["also"] == ["complaint"]
    d = decide(u, Situation())
    assert d.intent == "order_status"
    dropped = Understanding(text="hmm", standalone="hmm", lang="en", intent=IntentGuess("chit_chat", 0.6, goal="drop"))
    read_orders(dropped, "email")
    assert dropped.drop_goal


def test_a_language_question_is_answered_with_the_languages() -> None:
    u = understood("out_of_scope", "do you speak spanish?")
    d = decide(u, Situation())
    text = templates.render(reply_context(u, d, TurnFacts(), conclude(u, Situation(), d, TurnFacts())))
    assert "English and Chinese" in text, text


def test_a_return_with_no_order_known_asks_for_the_order() -> None:
    """"the product is incomplete" (no passage answers it) and "please refund my product" (the refund
    passage answers, but names no next step): both end by asking which order."""
    u = understood("return_request", "I didn't get everything, the product is incomplete")
    d = decide(u, Situation())
    out = conclude(u, Situation(), d, TurnFacts(kb_asked=True))
    assert d.move == Move.ASK
    text = templates.render(reply_context(u, d, TurnFacts(kb_asked=True), out))
    assert "order number" in text and "return" in text, text
    refund = understood("return_request", "please refund my product")
    d = decide(refund, Situation())
    f = TurnFacts(policy=("Refunds", "We issue the refund within 5–7 business days."))
    text = templates.render(reply_context(refund, d, f, conclude(refund, Situation(), d, f)))
    assert "5–7 business days" in text and "order number" in text, text
