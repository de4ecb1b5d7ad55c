"""Out-of-scope detection and Chinese utterances (never seen in training)."""

from __future__ import annotations

import copy

from kefu.vocab import detect_lang, is_zh
from services.intent.text import tokens


def test_learned_out_of_scope_label(intent_model) -> None:
    assert intent_model.oos_label == "out_of_scope"
    hits = 0
    for text in ("what's the weather like on mars tomorrow", "can you write me a poem about the sea",
                 "who won the football world cup in 1998"):
        pred = intent_model.classify(text)
        hits += pred.out_of_scope and pred.intent == "out_of_scope"
    assert hits >= 2


def test_confidence_threshold_makes_out_of_scope(intent_model) -> None:
    m = copy.copy(intent_model)
    m.oos_threshold = 1.01  # nothing is confident enough
    pred = m.classify("where is my order")
    assert pred.out_of_scope and pred.intent == "out_of_scope"
    assert pred.extra.get("below_threshold")


def test_in_scope_is_not_out_of_scope(intent_model) -> None:
    pred = intent_model.classify("I need a refund for the order I returned last week")
    assert pred.intent == "refund_status"
    assert not pred.out_of_scope


def test_chinese_segmentation() -> None:
    toks = tokens("我的订单到哪里了？KF100001")
    assert "订单" in toks and "kf100001" in toks
    assert is_zh("你好 hello") and not is_zh("hello")
    assert detect_lang("我要退款") == "zh" and detect_lang("I want a refund") == "en"


def test_chinese_utterances_classified(intent_model) -> None:
    cases = {
        "请问我的订单现在到哪了": "order_status",
        "我不想要了，帮我把这个订单取消掉": "cancel_order",
        "退款怎么还没到账啊": "refund_status",
        "您好，请问客服在吗": "greeting",
        "有没有适合跑步穿的鞋子推荐": "product_search",
    }
    got = {text: intent_model.classify(text).intent for text in cases}
    right = sum(got[t] == lab for t, lab in cases.items())
    assert right >= 4, got
