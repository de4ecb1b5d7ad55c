"""Which order an order turn looks up, and whether it acts on it."""

from __future__ import annotations

from gateway.turn.decide.situation import Situation
from gateway.turn.model import Decision, Understanding
from kefu.vocab import ORDER_CONTEXT, Intent


def plan(u: Understanding, s: Situation, d: Decision) -> None:
    name = u.intent.name
    if name not in ORDER_CONTEXT:
        return
    d.use_order = True
    d.order_id = u.order_id
    d.cancel = name == Intent.CANCEL_ORDER and bool(u.order_id) and not s.drafting
