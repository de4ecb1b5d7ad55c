"""Goals across turns: a message that answers what the bot asked continues the goal it waits on
(the order number, the proving factor, a new address, the yes to an action); anything else drops
the goal ("no" and changing the subject drop a pending action)."""

from __future__ import annotations

from gateway.turn.decide.situation import Situation
from gateway.turn.model import Decision, Goal, Understanding
from kefu.vocab import ORDER_INTENTS


def _continues(u: Understanding, g: Goal) -> bool:
    if g.step == "confirm":
        return u.answer == "yes"
    if g.step == "verify":
        return bool(u.factors) and (not u.order_id or u.order_id == g.order_id)
    if g.step == "address":
        return u.address is not None
    if g.step == "order_id":
        return bool(u.order_id) and u.intent.name not in ORDER_INTENTS
    return False


def follow(u: Understanding, s: Situation, d: Decision) -> None:
    """Continue the situation's goal when this message answers it: the decision takes the goal's
    intent, order and parameters (and a confirmed action to run)."""
    g = s.goal
    if g is None:
        return
    if g.step == "confirm" and u.answer == "no":
        d.declined, d.intent, d.order_id = True, g.intent, g.order_id
        return
    if not _continues(u, g):
        return
    d.goal = g
    d.intent = g.intent
    d.order_id = u.order_id or g.order_id
    if g.step == "confirm" and g.action is not None:
        d.action = g.action
