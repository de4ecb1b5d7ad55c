"""What the message means for the shopper's goal, beyond the intent model's single label.

The model is trained on one-line requests; real shoppers describe a problem ("the zipper on my
new jacket broke, what can I do?") or vent about something already done ("worst experience, had
to cancel…"). These rules read what such messages are for, on top of the model's guess:
- a faulty, damaged or wrong item is a return goal, not a search for the item;
- a frustrated message that tells of an action already taken is a complaint, not a request, and
  so is one the model read as small talk or out of scope ("They are not respond");
- praise is thanks, never a request for a person;
- "I want to buy a coat" names what to find: a search, not a question about how ordering works;
- a message that gives an order number ("Yes my order id is KF100254") is about that order even
  when the model read it as out of scope or small talk;
- a delivery question that names another country or its state ("Do you deliver in Canada",
  "Available in Pakistan ?") is about international shipping;
- "never mind" / "算了" drops the pending goal; a bare order number answers it.
Each override is recorded on the guess (`rule`), so the evidence shows why.
"""

from __future__ import annotations

import re

from gateway.turn.model import IntentGuess, Understanding
from kefu.settings import get_settings
from kefu.vocab import PRODUCT_INTENTS, Intent, order_ids
from kefu.vocab.places import abroad
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


# Labels an angry message without a request cannot mean ("not setisfied with uor" read as deny).
_VENT_MISREADS = frozenset({Intent.OUT_OF_SCOPE, Intent.DENY, Intent.AFFIRM, Intent.CHIT_CHAT, Intent.INFORM,
                            Intent.FEEDBACK, Intent.GREETING, Intent.GOODBYE})
# Labels a delivery question naming a foreign place was read as; stock and out-of-scope only with
# delivery words ("Available in Pakistan ?"), never a product search ("a jacket for my trip to Canada").
_SHIPPING_LABELS = frozenset({Intent.SHIPPING_INFO, Intent.DELIVERY_AREA, Intent.DELIVERY_TIME, Intent.FREE_SHIPPING,
                              Intent.CARRIER_INFO, Intent.SAME_DAY_DELIVERY})
_MAYBE_SHIPPING = frozenset({Intent.STOCK_AVAILABILITY, Intent.OUT_OF_SCOPE, Intent.CHIT_CHAT, Intent.INFORM})
_DELIVERY_WORDS = re.compile(
    r"\b(?:deliver\w*|ship\w*|send|post|available|courier|reach)\b|发货|寄|送到|配送|快递|包邮", re.I)
# "Hindi?", "do you speak Spanish": a short question about the chat's language (the assistant's
# self-introduction names its languages), read by the model as out of scope or small talk.
_LANGUAGE = re.compile(r"\b(?:languages?|english|hindi|tamil|telugu|marathi|bengali|urdu|spanish|french|german|"
                       r"arabic|japanese|korean|chinese|mandarin|cantonese)\b|中文|英文|英语|语言|普通话|粤语", re.I)
_LANGUAGE_MISREADS = frozenset({Intent.OUT_OF_SCOPE, Intent.CHIT_CHAT, Intent.INFORM, Intent.AFFIRM, Intent.DENY})
MAX_LANGUAGE_WORDS = 8
# Labels under which an order number in the message is the point of it.
_ID_CARRIERS = frozenset({Intent.OUT_OF_SCOPE, Intent.AFFIRM, Intent.CHIT_CHAT, Intent.FEEDBACK, Intent.GREETING})


# "I want to purchase some gym equipment", "assist me to buy a mattress", "我想买个保温杯": what
# follows the verb is the thing to find, whether or not the catalog has that kind of thing.
_BUY = re.compile(r"\b(?:want|wanna|would like|like|need|looking|planning|help me|assist me)\s+(?:to\s+)?"
                  r"(?:buy|purchase|order|get)\b(?P<en>[^.?!]*)"
                  r"|(?:想|要|打算)(?:买|购买|入手)(?P<zh>[^。？！?!，,]*)", re.I)
_NOT_A_THING = re.compile(r"^(?:\s|some|something|a|an|the|one|it|this|that|them|these|those|from (?:you|here|"
                          r"your (?:site|website|shop|store))|online|now|please|pls|again|more)*$"
                          r"|^(?:个|一个|一下|点|东西)*$", re.I)
_REFERENCE = re.compile(r"^\s*(?:this|that|it|these|those|the same|the one)\b|^(?:这|那)", re.I)


def buying_what(text: str) -> str | None:
    """'' for "i want to buy" with no object, the object's words when one is named, None when the
    message does not say it wants to buy."""
    m = _BUY.search(text)
    if m is None:
        return None
    obj = (m.group("en") or m.group("zh") or "").strip()
    if _REFERENCE.match(obj):
        return None  # "buy this one": a product already in view, not a new search
    return "" if _NOT_A_THING.match(obj) else obj


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
    u.intent = IntentGuess(intent, g.confidence, g.stage, g.candidates, rule=rule, model_intent=g.label,
                           also=[a for a in g.also if a != intent], goal=g.goal)


def _international(u: Understanding, name: str) -> bool:
    if name not in _SHIPPING_LABELS and not (name in _MAYBE_SHIPPING and _DELIVERY_WORDS.search(u.text)):
        return False
    return abroad(u.text, get_settings().shop_country)


def reread(u: Understanding) -> Understanding:
    """Correct the model's label where the words say what the message is for."""
    name = u.intent.name
    problem = u.reason in PROBLEM_REASONS and not _NOT_AN_ITEM.search(u.text)
    if problem and (name in _PROBLEM_MISREADS or (name == Intent.COMPLAINT and not u.angry)):
        _override(u, Intent.RETURN_REQUEST, f"problem_item:{u.reason}")
    elif u.angry and name == Intent.CANCEL_ORDER and _DONE_ACTION.search(u.text):
        _override(u, Intent.COMPLAINT, "venting_about_done_action")
    elif u.angry and name in _VENT_MISREADS and not u.order_id:
        _override(u, Intent.COMPLAINT, "venting")
    elif u.praise and name in (Intent.HUMAN_AGENT, Intent.COMPLAINT, Intent.OUT_OF_SCOPE) \
            and not _HUMAN.search(u.text):
        _override(u, Intent.THANKS, "praise")
    elif name in _ID_CARRIERS and order_ids().find(u.text):
        _override(u, Intent.ORDER_STATUS, "order_id_given")
    elif name in _LANGUAGE_MISREADS and _LANGUAGE.search(u.text) and len(u.text.split()) <= MAX_LANGUAGE_WORDS:
        _override(u, Intent.CHIT_CHAT, "asks_languages")
    elif _international(u, name):
        _override(u, Intent.INTERNATIONAL_SHIPPING, "names_a_country")
    elif name == Intent.PLACE_ORDER:
        _reread_buying(u)
    return u


def _reread_buying(u: Understanding) -> None:
    wanted = buying_what(u.text)
    if type_of(u.text) or wanted:
        _override(u, Intent.PRODUCT_SEARCH, "buy_named_product")  # "我想买外套": buying a kind of thing is a search
    elif wanted == "":
        u.vague = True  # "i i want to buy": buy what? One question, not the how-to-order paragraph
