"""A shopper turn end to end: lock → resolve → understand → decide → act → phrase → record →
publish → unlock, and an agent's drafted reply through the same understand/decide/act/phrase.

Every dependency call has a budget; a failed dependency is named in `degraded` and the turn is
answered from what is left.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Histogram
from redis.asyncio import Redis

from gateway.clients import Dependencies, DependencyDown, DependencyError
from gateway.conversation.locks import Lease, LocalLocks, release
from gateway.conversation.parking import ParkedTurns
from gateway.conversation.recording import Recorder, message_event
from gateway.conversation.replay import Replays
from gateway.orders.rules import ShopRules
from gateway.store import ConversationStore
from gateway.turn.act import Actor, Prefetch
from gateway.turn.decide import GOAL_SLOT, VERIFIED_SLOT, Situation, conclude, decide
from gateway.turn.model import (
    Decision,
    Emit,
    IntentGuess,
    Outcome,
    Phrased,
    Resolved,
    TurnFacts,
    TurnResult,
    Understanding,
)
from gateway.turn.phrase import Phraser, emit_text, reply_context
from gateway.turn.understand import Understander
from gateway.turn.understand.shopping import SEARCH_SLOT
from kefu.contracts import RecordTurnRequest, Turn
from kefu.tracing import annotate, traced
from kefu.vocab import detect_lang, order_ids

log = logging.getLogger("kefu.gateway.turn")

TURNS = Counter("kefu_gateway_turns_total", "shopper turns answered", ["source"])
TURN_SECONDS = Histogram(
    "kefu_gateway_turn_seconds", "whole-turn latency inside the gateway", ["source"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DEGRADED = Counter("kefu_gateway_degraded_total", "turns answered without a dependency", ["dep"])
HANDOFFS = Counter("kefu_gateway_handoffs_total", "conversations handed to a human", ["reason"])
RECORDED_PRODUCTS = 5
DRAFT_PRODUCTS = 3


def turn_message_id(cid: str, client_message_id: str | None) -> str:
    """The turn's id. From the widget's client_message_id when it sent one, so a message resent
    after its gateway died mid-turn (past dialog's record, before the replay cache) is the same
    turn to dialog, which records a message id once; a fresh id otherwise."""
    if client_message_id:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"kefu:{cid}:{client_message_id}").hex
    return uuid.uuid4().hex


@dataclass
class ConvInfo:
    status: str
    parked: bool
    customer: str | None = None


def public_slots(slots: dict[str, Any]) -> dict[str, Any]:
    """Slots a shopper sees: not the conversation state kept in "_" keys."""
    return {k: v for k, v in slots.items() if not k.startswith("_")}


def state_slots(u: Understanding, s: Situation, o: Outcome, f: TurnFacts | None = None) -> dict[str, Any]:
    """The slots recorded with the turn: the shopper's, plus the goal it leaves (None clears it),
    every order verified so far and the active product search (kept until a new one replaces it)."""
    verified = sorted(set(s.verified) | set(o.verified))
    out = {**public_slots(u.slots), GOAL_SLOT: o.goal.to_dict() if o.goal else None,
           VERIFIED_SLOT: verified or None}
    if f is not None and f.shopping.get("search") is not None:
        out[SEARCH_SLOT] = f.shopping["search"]
    return out


def evidence_of(u: Understanding, d: Decision, f: TurnFacts, p: Phrased, degraded: list[str],
                o: Outcome | None = None, s: Situation | None = None) -> dict[str, Any]:
    """What the dashboard shows beside a bot reply: why it said what it said."""
    o = o or Outcome(d.move)
    return {
        "outcome": o.move.value, "verified": f.verified, "order_found": f.found,
        "verify_failed": f.verify_failed, "locked": f.locked, "offer": o.offer, "action": f.action,
        "refusal": o.refusal, "goal": o.goal.to_dict() if o.goal else None,
        "signed_in": bool(s and s.customer),
        "intent": u.intent.evidence(), "standalone": u.standalone, "lang": u.lang, "slots": u.slots,
        "move": d.move.value,
        "products": [{k: h.get(k) for k in ("id", "title", "price", "score", "scorers")} for h in f.hits],
        "order_id": f.order["id"] if f.order else None, "order_status": f.order["status"] if f.order else None,
        "policy_section": f.policy[0] if f.policy else None, "search": f.search_meta,
        "passages": [{"id": p.id, "title": p.title, "source": p.source, "score": round(p.score, 4),
                      "answer": p.answer} for p in f.passages],
        "knowledge": "none" if f.kb_asked and not f.passages else ("answered" if f.passages else None),
        "kb_topic": f.kb_topic,
        "degraded": sorted(set(degraded)), "source": p.source, "handoff_reason": d.handoff_reason,
        "grounding": p.verdict, "shopping": f.shopping or None,
    }


class TurnPipeline:
    def __init__(self, deps: Dependencies, redis: Redis, store: ConversationStore, understander: Understander,
                 actor: Actor, phraser: Phraser, recorder: Recorder, parked: ParkedTurns, replays: Replays,
                 locks: LocalLocks, verify_factor: str = "email", rules: ShopRules | None = None) -> None:
        self.verify_factor = verify_factor
        self.rules = rules or ShopRules()
        self.deps = deps
        self.redis = redis
        self.store = store
        self.understander = understander
        self.actor = actor
        self.phraser = phraser
        self.recorder = recorder
        self.parked = parked
        self.replays = replays
        self.locks = locks

    @traced("turn")
    async def handle(self, cid: str, text: str, emit: Emit | None = None,
                     client_message_id: str | None = None) -> TurnResult:
        t0 = time.perf_counter()
        async with self.locks.hold(cid):
            replay = await self.replays.get(cid, client_message_id)
            if replay is not None:
                return await self._replay(replay, emit)
            conv = await self._conversation(cid)
            result = await self._locked_turn(cid, text, conv, emit, turn_message_id(cid, client_message_id))
            await self.replays.put(cid, client_message_id, result.public())
        self._observe(cid, result, time.perf_counter() - t0)
        return result

    async def _locked_turn(self, cid: str, text: str, conv: ConvInfo, emit: Emit | None,
                           message_id: str) -> TurnResult:
        """Under the local lock: classify and look the order up on the shopper's own words while
        dialog queues the lock and resolves; then the turn itself, then the lease goes."""
        early: asyncio.Task[IntentGuess] | None = None
        pre = self.actor.prefetch()
        if conv.status != "human":
            early = self.understander.begin(text)
            pre.on_text(text, order_ids().find(text))
        lease, degraded = Lease(), list[str]()
        try:
            resolved = await self._lock_resolve(cid, text, lease, degraded)
            if lease.id is not None and conv.parked:
                resolved = await self._flush_parked(cid, text, lease, resolved, degraded)
            if conv.status == "human":
                return await self._silent(cid, text, resolved, lease, degraded, message_id)
            return await self._turn(cid, text, conv, resolved, early, pre, lease, degraded, emit, message_id)
        finally:
            if early is not None and not early.done():
                early.cancel()
            pre.cancel()
            await release(self.deps, cid, lease)

    async def _replay(self, replay: dict[str, Any], emit: Emit | None) -> TurnResult:
        result = TurnResult.from_public(replay, {"replayed": True})
        if emit:
            await emit("intent", result.intent)
            await emit("products", {"products": result.products})
            await emit_text(emit, result.reply)
        return result

    async def _conversation(self, cid: str) -> ConvInfo:
        """The conversation's status (the gateway owns takeover/release, so its record wins), its
        signed-in shopper, and whether turns wait in Redis from a dialog outage — one round trip."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hmget(self.store.key(cid), ["status", "customer"])
            pipe.exists(self.parked.key(cid))
            (st, customer), parked = await pipe.execute()
        except Exception:
            rec = await self.store.get(cid) or {}
            return ConvInfo(rec.get("status", "bot"), self.parked.has(cid), rec.get("customer") or None)
        if not st:
            rec = await self.store.get(cid) or {}
            st, customer = rec.get("status", "bot"), rec.get("customer")
        return ConvInfo(str(st), bool(parked) or self.parked.has(cid), customer or None)

    @traced("turn.lock_resolve")
    async def _lock_resolve(self, cid: str, text: str, lease: Lease, degraded: list[str]) -> Resolved:
        """Lock and resolve in one dialog call; without dialog the turn runs on the text alone."""
        try:
            r, lk = await self.deps.lock_resolve(cid, text, detect_lang(text))
        except (DependencyDown, DependencyError) as exc:
            log.warning("no dialog lock/resolve for %s: %s", cid, exc)
            degraded.append("dialog")
            return Resolved(text)
        lease.id, lease.fence = lk.lease_id, lk.fence
        return Resolved.of(r, text)

    async def _flush_parked(self, cid: str, text: str, lease: Lease, resolved: Resolved,
                            degraded: list[str]) -> Resolved:
        """Turns spooled while dialog was down go first, then resolve again to see them; if they
        cannot go yet, this turn is spooled behind them (`dialog` degraded), keeping the order."""
        try:
            await self.parked.flush(cid, lease.fence)
        except Exception as exc:
            log.warning("spooled turns of %s not flushed yet: %s", cid, exc)
            degraded.append("dialog")
            return resolved
        try:
            return Resolved.of(await self.deps.resolve(cid, text), text)
        except (DependencyDown, DependencyError):
            return resolved

    async def _silent(self, cid: str, text: str, resolved: Resolved, lease: Lease, degraded: list[str],
                      message_id: str) -> TurnResult:
        """An agent owns the conversation: record the message, push it to agents, stay silent."""
        lang = detect_lang(text)
        req = RecordTurnRequest(message_id=message_id, user_text=text, reply_text="", role="bot",
                                slots=resolved.slots, evidence={"suppressed": "agent_handling", "lang": lang},
                                fence=lease.fence)
        await self.recorder.record(cid, req, degraded, lease=lease)
        await self.recorder.after_turn(cid, [message_event(cid, message_id, "user", text)], ("user", text, None))
        return TurnResult(message_id, "", {"name": None, "confidence": None, "stage": None},
                          public_slots(resolved.slots), [],
                          True, degraded, "human", lang, "none", {"suppressed": "agent_handling"})

    async def _turn(self, cid: str, text: str, conv: ConvInfo, resolved: Resolved,
                    early: asyncio.Task[IntentGuess] | None, pre: Prefetch, lease: Lease, degraded: list[str],
                    emit: Emit | None, message_id: str) -> TurnResult:
        t0 = time.perf_counter()
        user_event = message_event(cid, message_id, "user", text)
        u = await self.understander.finish(
            text, resolved, early, lambda s, oid, refs: pre.on_text(s, oid, refs, standalone=True))
        if emit:
            await emit("intent", u.intent.public())
        sit = self._situation(u, conv, message_id)
        d = decide(u, sit)
        facts = await self.actor.run(d, u, sit, cid, pre)
        if emit:
            await emit("products", {"products": facts.products})
        out = conclude(u, sit, d, facts)
        degraded += u.degraded + facts.degraded
        status = await self._hand_off(cid, d, conv.status, degraded)
        ctx = reply_context(u, d, facts, out, sit.factor, self.rules)
        phrased = await self.phraser.phrase(ctx, facts, u.standalone, emit)
        degraded += phrased.degraded
        evidence = evidence_of(u, d, facts, phrased, degraded, out, sit)
        req = RecordTurnRequest(message_id=message_id, user_text=text, reply_text=phrased.text, role="bot",
                                intent=d.intent, confidence=u.intent.confidence, stage=u.intent.stage,
                                slots=state_slots(u, sit, out, facts),
                                products=[h["id"] for h in facts.hits[:RECORDED_PRODUCTS]], evidence=evidence,
                                latency_ms=round((time.perf_counter() - t0) * 1000, 2), fence=lease.fence)
        await self.recorder.record(cid, req, degraded, facts.products, lease=lease)
        evidence["degraded"] = sorted(set(degraded))
        bot_event = message_event(cid, message_id, "bot", phrased.text, evidence=evidence)
        await self.recorder.after_turn(cid, [user_event, bot_event], ("bot", phrased.text, d.intent))
        handoff = d.handoff_reason is not None or status == "pending_human"
        annotate(**{"kefu.conversation_id": cid, "kefu.intent": d.intent, "kefu.move": d.move.value,
                    "kefu.reply_source": phrased.source, "kefu.degraded": sorted(set(degraded))})
        return TurnResult(message_id, phrased.text, u.intent.public(), public_slots(u.slots), facts.products, handoff,
                          sorted(set(degraded)), status, u.lang, phrased.source, evidence)

    def _situation(self, u: Understanding, conv: ConvInfo, message_id: str, *, drafting: bool = False) -> Situation:
        return Situation.from_slots(u.slots, status=conv.status, drafting=drafting, customer=conv.customer,
                                    factor=self.verify_factor, rules=self.rules, message_id=message_id)

    async def _hand_off(self, cid: str, d: Decision, status: str, degraded: list[str]) -> str:
        """A handoff decision puts a bot-held conversation in the agents' queue."""
        if d.handoff_reason and status == "bot":
            await self.recorder.set_status(cid, "pending_human", d.handoff_reason, tell_dialog="dialog" not in degraded)
            HANDOFFS.labels(d.handoff_reason).inc()
            return "pending_human"
        return status

    @staticmethod
    def _observe(cid: str, result: TurnResult, elapsed: float) -> None:
        TURNS.labels(result.source).inc()
        TURN_SECONDS.labels(result.source).observe(elapsed)
        for dep in result.degraded:
            DEGRADED.labels(dep).inc()
        if log.isEnabledFor(logging.INFO):
            log.info("turn", extra={"fields": {"conversation_id": cid, "intent": result.intent.get("name"),
                                               "source": result.source, "degraded": result.degraded,
                                               "ms": round(elapsed * 1000, 1)}})

    async def suggest(self, cid: str, last_user_text: str, history: list[Turn]) -> dict[str, Any]:
        """A drafted reply for the agent: the same understand/decide/act/phrase, nothing recorded
        and nothing done (a draft never acts on an order, nor offers to)."""
        u = await self.understander.from_transcript(last_user_text, history[-5:])
        conv = await self._conversation(cid)
        state = await self._state_slots(cid)
        sit = Situation.from_slots(state, status=conv.status, drafting=True, customer=conv.customer,
                                   factor=self.verify_factor, rules=self.rules)
        d = decide(u, sit)
        facts = await self.actor.run(d, u, sit, cid)
        out = conclude(u, sit, d, facts)
        ctx = reply_context(u, d, facts, out, sit.factor, self.rules)
        phrased = await self.phraser.phrase(ctx, facts, u.standalone, use_cache=False)
        return {"text": phrased.text, "source": phrased.source, "intent": u.intent.evidence(),
                "products": facts.products[:DRAFT_PRODUCTS], "order": facts.order if d.use_order else None,
                "verified": facts.verified, "policy_section": facts.policy[0] if facts.policy else None,
                "passages": [{"title": p.title, "source": p.source, "answer": p.answer} for p in facts.passages],
                "grounding": phrased.verdict,
                "degraded": sorted(set(u.degraded + facts.degraded + phrased.degraded))}

    async def _state_slots(self, cid: str) -> dict[str, Any]:
        """The conversation's "_" slots (verified orders, the goal) from dialog, for a draft."""
        try:
            data = await self.deps.state(cid)
        except (DependencyDown, DependencyError):
            return {}
        slots = (data or {}).get("slots") if isinstance(data, dict) else None
        return {k: v for k, v in (slots or {}).items() if k.startswith("_")}
