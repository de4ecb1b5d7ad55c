"""What the message means for the shopper's goal, beyond the intent model's single label.

The model is trained on one-line requests; real shoppers describe a problem ("the zipper on my
new jacket broke, what can I do?") or vent about something already done ("worst experience, had
to cancel…"). These rules read what such messages are for, on top of the model's guess:
- a faulty, damaged or wrong item is a return goal, not a search for the item;
- a frustrated message that tells of an action already taken is a complaint, not a request;
- praise is thanks, never a request for a person;
- "I want to buy a coat" names what to find: a search, not a question about how ordering works;
- "never mind" / "算了" drops the pending goal; a bare order number answers it.
Each override is recorded on the guess (`rule`), so the evidence shows why.
"""

from __future__ import annotations

import re

from gateway.turn.model import IntentGuess, Understanding
from kefu.vocab import PRODUCT_INTENTS, Intent
from kefu.vocab.shopping import type_of

PROBLEM_REASONS = frozenset({"faulty", "damaged", "wrong_item"})
# Labels a broken/damaged/wrong item cannot mean: the model reached for the nearest topic ("我新买的
# 夹克拉链坏了" read as payment_issue at 0.69). Order actions, complaints and handoff stay as read.
_PROBLEM_MISREADS = PRODUCT_INTENTS | {Intent.OUT_OF_SCOPE, Intent.SHIPPING_INFO, Intent.ORDER_STATUS,
                                       Intent.PAYMENT_ISSUE, Intent.COUPON, Intent.ACCOUNT_HELP,
                                       Intent.GREETING, Intent.THANKS, Intent.GOODBYE}

DROP = re.compile(
    r"^\s*(?:ok(?:ay)?[,. ]*|oh[,. ]*)?(?:never\s?mind|nvm|forget (?:it|about it)|forget that|doesn'?t matter|"
    r"not needed any ?more|no need any ?more|i(?:'ll| will) (?:keep it|do it myself|leave it))\b"
    r"|^\s*(?:算了|不用了|不需要了|没事了|不退了|不要了|那算了|哦算了|好吧算了)", re.I)
# A broken link, code or page is not an item to send back.
_NOT_AN_ITEM = re.compile(r"\b(tracking|link|website|site|app|page|checkout|code|coupon|promo|account|password|login)\b"
                          r"|链接|网站|页面|优惠券|账号|密码|登录", re.I)
_DONE_ACTION = re.compile(
    r"\b(?:had to|have to|was forced to|ended up|i(?:'ve| have)? already|i just|so i)\s+cancel+(?:l?ed)?\b"
    r"|\bi cancell?ed\b|只好取消|不得不取消|已经取消|我取消了|被迫取消", re.I)
_HUMAN = re.compile(r"\b(human|agent|real person|representative|operator|someone|somebody|person)\b"
                    r"|人工|真人|客服人员|转人工", re.I)
# What a bare answer with an order number says besides the number ("it's order KF100007").
_FILLER = re.compile(r"\b(?:it'?s|it is|its|this is|that'?s|the|my|order|number|no|id|is|here|you go|"
                     r"sure|ok|okay|yes|yeah|one|of|for|hi|hello|please|thanks)\b"
                     r"|订单号?|单号|编号|号码|我的|是|这个|好的|嗯|亲|[\s#:：,，.。!！?？'\"-]", re.I)


def drops_goal(text: str) -> bool:
    return bool(DROP.search(text))


def bare_order_reply(text: str, order_id: str | None) -> bool:
    """The message is an order number and little else: an answer to "which order?"."""
    if not order_id:
        return False
    rest = re.sub(re.escape(order_id), " ", text, flags=re.I)
    return not _FILLER.sub("", rest).strip()


def _override(u: Understanding, intent: str, rule: str) -> None:
    g = u.intent
    u.intent = IntentGuess(intent, g.confidence, g.stage, g.candidates, rule=rule, model_intent=g.label)


def reread(u: Understanding) -> Understanding:
    """Correct the model's label where the words say what the message is for."""
    name = u.intent.name
    problem = u.reason in PROBLEM_REASONS and not _NOT_AN_ITEM.search(u.text)
    if problem and (name in _PROBLEM_MISREADS or (name == Intent.COMPLAINT and not u.angry)):
        _override(u, Intent.RETURN_REQUEST, f"problem_item:{u.reason}")
    elif u.angry and name == Intent.CANCEL_ORDER and _DONE_ACTION.search(u.text):
        _override(u, Intent.COMPLAINT, "venting_about_done_action")
    elif u.praise and name in (Intent.HUMAN_AGENT, Intent.COMPLAINT, Intent.OUT_OF_SCOPE) \
            and not _HUMAN.search(u.text):
        _override(u, Intent.THANKS, "praise")
    elif name == Intent.PLACE_ORDER and type_of(u.text):  # "我想买外套": buying a kind of thing is a search
        _override(u, Intent.PRODUCT_SEARCH, "buy_named_product")
    return u
