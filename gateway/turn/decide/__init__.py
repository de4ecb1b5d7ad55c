"""Step 2, decide: from the understanding and the conversation, what the turn does. No I/O.

Two pure functions around `act`:
- `decide` plans: which goal the message continues (`goals`), which products to read or search
  (`products`), which order to look up and which action to offer (`orders`), whether to ask
  the knowledge base (`knowledge`), and whether to hand off (`handoff`);
- `conclude` ends the turn once the facts are in: the move the reply makes (answer, ask, verify,
  confirm, act, hand off) and the goal and verified orders the conversation keeps.
An agent's draft (`drafting`) never acts and offers nothing: it says what the bot would say.
"""

from __future__ import annotations

from gateway.turn.decide import goals, handoff, knowledge, orders, products
from gateway.turn.decide.situation import GOAL_SLOT, VERIFIED_SLOT, Situation
from gateway.turn.model import Decision, Goal, Move, Outcome, TurnFacts, Understanding
from kefu.tracing import traced
from kefu.vocab import ORDER_INTENTS, Intent

__all__ = ["GOAL_SLOT", "VERIFIED_SLOT", "Situation", "conclude", "decide"]


def _move(u: Understanding, d: Decision) -> Move:
    if d.handoff_reason:
        return Move.HANDOFF
    if d.action is not None:
        return Move.ACT
    if d.intent in ORDER_INTENTS and not d.order_id and not d.list_orders:
        return Move.ASK
    return Move.ANSWER


@traced("turn.decide")
def decide(u: Understanding, s: Situation | None = None) -> Decision:
    s = s or Situation()
    d = Decision(move=Move.ANSWER, intent=u.intent.name)
    goals.follow(u, s, d)
    if d.dropped:
        return d  # "never mind": nothing to look up, the reply says the goal is dropped
    if d.goal is None and not d.declined:
        d.handoff_reason = handoff.reason(u)
        products.plan(u, d)
    orders.plan(u, s, d)
    knowledge.plan(u, d)
    d.clarify = u.vague and d.goal is None and not d.handoff_reason and not s.drafting
    d.move = _move(u, d)
    return d


def conclude(u: Understanding, s: Situation, d: Decision, f: TurnFacts) -> Outcome:
    if d.move == Move.HANDOFF:
        return Outcome(Move.HANDOFF)
    out = orders.conclude(u, s, d, f) or Outcome(d.move)
    if d.move == Move.ACT and out.move == Move.ANSWER:
        out.move = Move.ACT
    if out.goal is None:
        out.goal = goals.kept(u, s, d)  # a side question leaves the pending goal in place
    if out.goal is None and (u.angry or handoff.out_of_scope_again(u)) and not s.drafting \
            and out.move in (Move.ANSWER, Move.ASK) and f.order is None and not f.hits:
        # a frustrated shopper, or one the bot could not help twice, is offered a person (a "yes"
        # next turn hands over)
        out.goal = Goal(Intent.HUMAN_AGENT, "confirm", d.order_id)
    return out
