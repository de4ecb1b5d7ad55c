"""Step 2, decide: from the understanding and the conversation, the turn's next move. No I/O.

Each concern has its own module and fills its part of the `Decision`:
- `handoff` — the shopper asks for a person, is out of scope twice, or complains angrily;
- `products` — a question about products already shown reads them by id; any other product
  intent searches the catalog (referenced products first);
- `orders` — an order intent looks its order up (a cancel request cancels it when allowed);
  without an id the move is to ask for one;
and policy intents draw on the shop's policy section for the intent. The move follows from the
parts. An agent's draft (`drafting`) never acts: it describes what the bot would say.
"""

from __future__ import annotations

from gateway.turn.decide import handoff, orders, products
from gateway.turn.decide.situation import Situation
from gateway.turn.model import Decision, Move, Understanding
from kefu.vocab import ORDER_INTENTS, POLICY_INTENTS

__all__ = ["Situation", "decide"]


def _move(u: Understanding, d: Decision) -> Move:
    if d.handoff_reason:
        return Move.HANDOFF
    if d.cancel:
        return Move.ACT
    if u.intent.name in ORDER_INTENTS and not u.order_id:
        return Move.ASK
    return Move.ANSWER


def decide(u: Understanding, s: Situation | None = None) -> Decision:
    s = s or Situation()
    d = Decision(move=Move.ANSWER, intent=u.intent.name, handoff_reason=handoff.reason(u))
    products.plan(u, d)
    orders.plan(u, s, d)
    if u.intent.name in POLICY_INTENTS:
        d.policy = u.intent.name
    d.move = _move(u, d)
    return d
