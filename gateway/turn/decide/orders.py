"""Orders in a turn: which order to look up, which action to offer, and — once the facts are in —
how the turn ends: ask for the proving factor, offer the action for an explicit yes, say why it is
not possible, or state the result of an action the shopper confirmed."""

from __future__ import annotations

from typing import Any

from gateway.turn.decide.situation import Situation
from gateway.turn.model import ActionPlan, Decision, Goal, Move, Outcome, TurnFacts, Understanding
from kefu.vocab import ORDER_CONTEXT, ORDER_INTENTS, Intent

ACTION_OF = {Intent.CANCEL_ORDER: "cancel", Intent.CHANGE_ADDRESS: "address", Intent.RETURN_REQUEST: "return"}
VARIANT_SLOTS = ("size", "color", "colour")


def _kind(intent: str, u: Understanding) -> str | None:
    if intent == Intent.CHANGE_ORDER and any(u.slots.get(k) for k in VARIANT_SLOTS):
        return "exchange"
    return ACTION_OF.get(intent)  # type: ignore[call-overload]


def _params(kind: str, u: Understanding, goal: Goal | None) -> dict[str, Any]:
    carried = dict(goal.params) if goal else {}
    if kind == "address":
        return {**carried, "address": u.address or carried.get("address")}
    if kind in ("return", "exchange"):
        reason = u.reason if u.reason != "other" else carried.get("reason", "other")
        variant = {k: u.slots[k] for k in VARIANT_SLOTS if u.slots.get(k)} or carried.get("variant", {})
        return {**carried, "reason": reason, "variant": variant}
    return carried


def plan(u: Understanding, s: Situation, d: Decision) -> None:
    if d.intent not in ORDER_CONTEXT:
        return
    d.use_order = True
    d.order_id = d.order_id or u.order_id
    if not d.order_id and s.customer and d.intent in ORDER_INTENTS:
        d.list_orders = True
    kind = _kind(d.intent, u)
    if kind and not s.drafting and d.action is None and not d.declined:
        d.propose = ActionPlan(kind, d.order_id or "", _params(kind, u, d.goal))


def _goal_params(u: Understanding, d: Decision) -> dict[str, Any]:
    return d.propose.params if d.propose else ({"reason": u.reason} if u.reason != "other" else {})


def _offer(s: Situation, plan_: ActionPlan, order: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    """Whether the rules allow the action on this order, why not, and what it would do."""
    r = s.rules
    if plan_.kind == "cancel":
        ok, why = r.can_cancel(order)
        return ok, why, {"refund": order.get("status") == "paid", "total": order.get("total")}
    if plan_.kind == "address":
        ok, why = r.can_change_address(order)
        return ok, why, {"address": plan_.params.get("address")}
    ok, why = r.can_return(order, s.today)
    if plan_.kind == "exchange" and not ok and order.get("status") in r.address_change_statuses:
        return False, "not_shipped", {}
    deadline = r.return_deadline(order)
    reason = str(plan_.params.get("reason") or "other")
    return ok, why, {"deadline": deadline.isoformat() if deadline else None, "reason": reason,
                     "window_days": r.return_window_days,
                     "fee": r.return_fee_for(reason), "variant": plan_.params.get("variant") or {},
                     "items": order.get("items") or []}


def _propose(u: Understanding, s: Situation, d: Decision, f: TurnFacts, verified: list[str]) -> Outcome:
    assert d.propose is not None and f.order is not None
    plan_ = ActionPlan(d.propose.kind, f.order["id"], d.propose.params, key=s.message_id)
    if plan_.kind == "address" and not plan_.params.get("address"):
        return Outcome(Move.ASK, Goal(d.intent, "address", f.order["id"], params=plan_.params), verified)
    ok, why, offer = _offer(s, plan_, f.order)
    if not ok:
        return Outcome(Move.ANSWER, None, verified, {"kind": plan_.kind, "order_id": plan_.order_id}, why)
    plan_.params = {**plan_.params, **{k: offer[k] for k in ("fee", "items") if k in offer}}
    offer = {"kind": plan_.kind, "order_id": plan_.order_id, **offer}
    return Outcome(Move.CONFIRM, Goal(d.intent, "confirm", plan_.order_id, plan_, plan_.params), verified, offer)


def conclude(u: Understanding, s: Situation, d: Decision, f: TurnFacts) -> Outcome | None:
    """The order part of the outcome (None: this turn has no order part)."""
    if not d.use_order:
        return None
    verified = [f.order["id"]] if f.newly_verified and f.order else []
    if d.declined or d.action is not None or f.order_missing:
        return Outcome(Move.ANSWER, None, verified)
    if f.found and not f.verified:  # asks for the factor (or, locked, offers a person) and waits
        return Outcome(Move.VERIFY, Goal(d.intent, "verify", f.found, params=_goal_params(u, d)))
    if f.order is None:
        if d.intent not in ORDER_INTENTS:
            return Outcome(Move.ANSWER)
        return Outcome(Move.ASK, Goal(d.intent, "order_id", params=_goal_params(u, d)))
    if d.propose is not None:
        return _propose(u, s, d, f, verified)
    return Outcome(Move.ANSWER, None, verified)
