"""Messages that name a topic and nothing else: "payment issue", "Product Quality", "I have an
issue with an item", "订单问题", or no words at all ("??"). Answering them with the topic's first
policy paragraph guesses at what went wrong; a person would ask. The turn asks one clarifying question instead."""

from __future__ import annotations

import re

from kefu.vocab import HAN_CLASS
from kefu.vocab.topics import EN_SHOP_WORDS, ZH_SHOP_WORDS

MAX_WORDS = 7
MAX_HAN = 8
# Words that say "a problem about X" without saying which problem.
_TOPIC_ONLY = re.compile(
    r"\b(?:issues?|problems?|query|queries|related|regarding|quality|concerns?|trouble)\b"
    rf"|(?:^|[^{HAN_CLASS}])(?:订单|付款|支付|商品|质量|物流)?(?:问题|有问题|出问题了|咨询)[?？。！!]*$")
# …unless the message also says what happened or what is wanted.
_SPECIFIC = re.compile(
    r"\b(?:late|never|not|didn'?t|broken|damaged|wrong|missing|twice|refund|cancel|return|track|declined|failed|"
    r"charged|where|when|how|why|great|good|love|excellent|amazing|thanks?)\b|没|未|坏|错|少|退|取消|扣|哪|怎么|为什么|什么时候"
    r"|好|棒|谢", re.I)


# "??", "❓❓❓", "...": something is wrong, but what? (A 👍 or 🙏 is not a question.)
_NO_WORDS = re.compile(r"^[\s?？❓❔.。,，!！~…-]+$")


def is_vague(text: str, order_id: str | None) -> bool:
    """Short, names a topic as a problem, says nothing more specific, and gives no order; or has no
    word at all."""
    if order_id:
        return False
    t = text.strip()
    if _NO_WORDS.match(t):
        return True
    han = len(re.findall(f"[{HAN_CLASS}]", t))
    short = han <= MAX_HAN if han else len(t.split()) <= MAX_WORDS
    return short and bool(_TOPIC_ONLY.search(t.lower())) and not _SPECIFIC.search(t)


# What went wrong with a payment, when the shopper says it: then the help text answers it.
_PAYMENT_SPECIFIC = re.compile(
    r"\b(?:fail\w*|declin\w*|reject\w*|twice|double\w*|duplicate|refund\w*|error|denied|not (?:go(?:ing)? )?through|"
    r"methods?|accept\w*|visa|mastercard|paypal|card)\b|失败|不成功|扣了两次|重复|两次|退款|报错|方式|支持", re.I)


def unclear_payment(text: str, label: str, order_id: str | None) -> bool:
    """"Yaa am already paid", "paid but it's not in my orders": a payment problem without what went
    wrong. Quoting the failed-payment paragraph guesses; the turn asks which problem it is."""
    return label == "payment_issue" and not order_id and not _PAYMENT_SPECIFIC.search(text)


def unsure_about_shopping(text: str, name: str, stage: str, top_label: str | None) -> bool:
    """Out of scope only because no label was sure (the model's own top label is in scope), in words
    about shopping here ("I just paid … not visible in my orders"): on the out-of-scope dev split 6 of
    7 such messages were in scope and 94 of 100 without those words were not. "I can't help with
    that" would refuse what the shop likely can do; one clarifying question asks what it is."""
    if name != "out_of_scope" or stage == "fallback" or not top_label or top_label == "out_of_scope":
        return False
    return bool(EN_SHOP_WORDS.search(text)) or any(w in text for w in ZH_SHOP_WORDS)
