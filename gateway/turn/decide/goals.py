"""Goals across turns: a message that answers what the bot asked continues the goal it waits on
(the order number, the proving factor, a new address, the yes to an action); "never mind" / "算了"
drops it; a new request switches to that request. A side question (a policy question, thanks)
leaves a goal that waits on an order number, a factor or an address pending for the next turn;
a pending action, though, needs its yes right away ("no" and changing the subject drop it)."""

from __future__ import annotations

from gateway.turn.decide.situation import Situation
from gateway.turn.model import Decision, Goal, Understanding
from gateway.turn.understand.goals import bare_order_reply
from kefu.vocab import HELP_QUESTIONS, ORDER_INTENTS, PRODUCT_INTENTS, Intent
from kefu.vocab.replies import thanks_only

# Intents of a message that asks something else without starting a new goal.
_SIDE = frozenset({Intent.GREETING, Intent.THANKS, Intent.SHIPPING_INFO, Intent.REFUND_STATUS,
                   Intent.PAYMENT_ISSUE, Intent.COUPON, Intent.ACCOUNT_HELP, Intent.RETURN_REQUEST,
                   Intent.CHIT_CHAT, Intent.AFFIRM, Intent.FEEDBACK}) | HELP_QUESTIONS


def _continues(u: Understanding, g: Goal) -> bool:
    if g.step == "confirm":
        return u.answer == "yes"
    if g.step == "verify":
        return bool(u.factors) and (not u.order_id or u.order_id == g.order_id)
    if g.step == "address":
        return u.address is not None
    if g.step == "order_id":
        if not u.order_id:  # "I just want to return it": the same goal, still without its order
            return u.intent.name == g.intent
        return u.intent.name not in ORDER_INTENTS or u.intent.name == g.intent or bare_order_reply(u.text, u.order_id)
    return False


def follow(u: Understanding, s: Situation, d: Decision) -> None:
    """Continue the situation's goal when this message answers it: the decision takes the goal's
    intent, order and parameters (and a confirmed action to run)."""
    g = s.goal
    if g is None:
        return
    if u.drop_goal:
        d.dropped = g.intent
        return
    if g.step == "confirm" and u.answer == "no":
        d.declined, d.intent, d.order_id = True, g.intent, g.order_id
        return
    if not _continues(u, g):
        return
    if g.intent == Intent.HUMAN_AGENT and thanks_only(u.text):
        return  # "ok, thanks" after the offer of a person closes the topic; it asks for no one
    d.goal = g
    d.intent = g.intent
    d.order_id = u.order_id or g.order_id
    if g.step == "confirm" and g.action is not None:
        d.action = g.action
    if g.intent == Intent.HUMAN_AGENT:  # "yes" to the offer of a person
        d.handoff_reason = "asked_for_human"


def kept(u: Understanding, s: Situation, d: Decision) -> Goal | None:
    """The pending goal a side question leaves in place (None: dropped, switched or done)."""
    g = s.goal
    if g is None or d.goal is not None or d.dropped or d.declined or g.step == "confirm" or s.drafting:
        return None
    if u.order_id or u.intent.name in PRODUCT_INTENTS or d.handoff_reason:
        return None
    if u.intent.name in ORDER_INTENTS and u.intent.name != g.intent:
        return None  # a new order request switches the goal
    return g if u.intent.name in _SIDE or u.intent.name == g.intent else None
