"""Step 2, decide: from the understanding and the conversation, the turn's next move. No I/O.

The rules, in order:
- the shopper asks for a person, is out of scope twice in a row, or complains angrily → hand off;
- a product question about products already shown reads them by id; any other product intent
  searches the catalog (referenced products first);
- an order intent with an order id looks it up (and a cancel request cancels it when allowed);
  without an id the move is to ask for one;
- policy intents draw on the shop's policy section for the intent.
An agent's draft (`drafting`) never acts: it describes what the bot would say, nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.turn.model import Decision, Move, Understanding
from kefu.vocab import (
    ORDER_CONTEXT,
    ORDER_INTENTS,
    POLICY_INTENTS,
    PRODUCT_INTENTS,
    REFERENCE_INTENTS,
    Intent,
)

# How many earlier shopper turns count for "out of scope twice".
OOS_WINDOW = 4


@dataclass
class Situation:
    """The conversation as the decision sees it."""

    status: str = "bot"  # bot | pending_human (an agent-held conversation never reaches decide)
    drafting: bool = False  # an agent's suggested reply: look, never act


def handoff_reason(u: Understanding) -> str | None:
    if u.intent.name == Intent.HUMAN_AGENT:
        return "asked_for_human"
    if u.intent.name == Intent.OUT_OF_SCOPE:
        window = [t for t in u.history[-OOS_WINDOW:] if t.user]
        if any(t.intent == Intent.OUT_OF_SCOPE for t in window):
            return "out_of_scope_twice"
    if u.intent.name == Intent.COMPLAINT and u.angry:
        return "angry_shopper"
    return None


def _products(u: Understanding, d: Decision) -> None:
    if u.intent.name not in PRODUCT_INTENTS:
        return
    if u.referenced and u.intent.name in REFERENCE_INTENTS:
        d.product_ids = u.referenced[:3]  # "how much is the second one?": known by id, no search
    d.search = u.standalone  # also the fallback when the referenced ids are gone
    d.prefer_ids = list(u.referenced)


def _order(u: Understanding, s: Situation, d: Decision) -> None:
    name = u.intent.name
    if name not in ORDER_CONTEXT:
        return
    d.use_order = True
    d.order_id = u.order_id
    d.cancel = name == Intent.CANCEL_ORDER and bool(u.order_id) and not s.drafting


def _move(u: Understanding, d: Decision) -> Move:
    if d.handoff_reason:
        return Move.HANDOFF
    if d.cancel:
        return Move.ACT
    if u.intent.name in ORDER_INTENTS and not u.order_id:
        return Move.ASK
    return Move.ANSWER


def decide(u: Understanding, s: Situation | None = None) -> Decision:
    d = Decision(move=Move.ANSWER, intent=u.intent.name, handoff_reason=handoff_reason(u))
    _products(u, d)
    _order(u, s or Situation(), d)
    if u.intent.name in POLICY_INTENTS:
        d.policy = u.intent.name
    d.move = _move(u, d)
    return d
