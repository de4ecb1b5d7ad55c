"""Step 1, understand: the shopper's words → one typed `Understanding`.

The intent model is asked about the shopper's own words as soon as the message arrives (while
dialog queues the lock and resolves the follow-up); the standalone rewrite is classified again
only when those words were unclear. Without the intent service a keyword rule names the intent,
so a degraded turn still reaches the right facts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from gateway.clients import Dependencies, DependencyDown, DependencyError
from gateway.fallback_intent import guess_intent
from gateway.turn.model import IntentGuess, Resolved, Understanding
from gateway.turn.understand import goals, orders, sentiment, shopping
from gateway.turn.understand.vague import is_vague, unclear_payment, unsure_about_shopping
from kefu.contracts import Turn
from kefu.tracing import traced
from kefu.vocab import Intent, conversation_lang, order_ids, serves

log = logging.getLogger("kefu.gateway.turn")

# Told (standalone text, order id, referenced ids) as soon as they are known, before the intent:
# the pipeline starts the search or order look-up these will most likely need.
OnRead = Callable[[str, str | None, list[str]], None]

# The raw-text intent is kept for a rewritten follow-up at or above this confidence.
EARLY_INTENT_CONFIDENCE = 0.7


@dataclass
class Versions:
    """Model and catalog versions seen last: they key the response cache."""

    intent: str = ""
    catalog: str = ""


def _expecting(slots: dict[str, object], factor: str) -> str | None:
    """The factor the bot asked for last turn, if it is waiting for one."""
    goal = slots.get("_goal")
    return factor if isinstance(goal, dict) and goal.get("step") == "verify" else None


def read_orders(u: Understanding, factor: str, expecting: str | None = None) -> Understanding:
    """Fill what the message says for an order conversation (factors, yes/no, address, reason),
    how the shopper feels, and what it means for their goal (which may correct the intent)."""
    feel = sentiment.read(u.text)
    # A second need the LLM read (multi-label): a complaint is served the way frustration is, with
    # an apology and a person on offer, beside the answer to the main need.
    u.angry, u.urgent, u.praise = feel.frustrated or Intent.COMPLAINT in u.intent.also, feel.urgent, feel.praise
    u.drop_goal = goals.drops_goal(u.text) or u.intent.goal == "drop"
    u.factors = orders.factors_in(u.text, expecting=expecting)
    if factor not in u.factors and isinstance(u.slots.get(factor), str):
        u.factors[factor] = str(u.slots[factor])  # stated earlier in the window (dialog's slots)
    u.answer = orders.yes_or_no(u.text)
    u.address = orders.new_address(u.text)
    u.reason = orders.return_reason(u.text)
    u.vague = is_vague(u.text, u.order_id) or unclear_payment(u.text, u.intent.label, u.order_id)
    u = goals.reread(u)
    top = u.intent.candidates[0].get("label") if u.intent.candidates else None
    if not u.order_id and unsure_about_shopping(u.text, u.intent.name, u.intent.stage, top):
        u.vague = True  # after the re-read: "Do u have delivery at kerala" is a shipping question by then
    return u


class Understander:
    def __init__(self, deps: Dependencies, versions: Versions, factor: str = "email") -> None:
        self.deps = deps
        self.versions = versions
        self.factor = factor

    async def classify(self, text: str) -> IntentGuess:
        """The intent service's answer, or the keyword fallback (stage `fallback`)."""
        try:
            c = await self.deps.classify(text)
        except (DependencyDown, DependencyError) as exc:
            log.warning("intent unavailable: %s", exc)
            return IntentGuess(guess_intent(text), 0.0, "fallback")
        if c.model_version:
            self.versions.intent = c.model_version
        label = (Intent.OUT_OF_SCOPE.value if c.out_of_scope else c.intent) or Intent.OUT_OF_SCOPE.value
        also = [i for i in c.intents[1:] if i != label]
        return IntentGuess(serves(label), round(float(c.confidence), 4), c.stage,
                           [x.model_dump() for x in c.candidates[:5]], label=label, also=also, goal=c.goal)

    def begin(self, text: str) -> asyncio.Task[IntentGuess]:
        """Start classifying the raw text now; `finish` decides whether its answer stands."""
        return asyncio.create_task(self.classify(text))

    @traced("turn.understand")
    async def finish(self, text: str, resolved: Resolved, early: asyncio.Task[IntentGuess] | None,
                     on_read: OnRead | None = None) -> Understanding:
        slots = dict(resolved.slots)
        oid = order_ids().find(str(slots.get("order_id") or ""), resolved.standalone, text)
        if oid:
            slots.setdefault("order_id", oid)
        if on_read is not None:
            on_read(resolved.standalone, oid, list(resolved.referenced))
        guess = await self._intent(text, resolved.standalone, early)
        history = list(resolved.state.turns) if resolved.state else []
        lang = conversation_lang(text, [t.user for t in history])
        u = Understanding(
            text=text, standalone=resolved.standalone, lang=lang, intent=guess, slots=slots,
            referenced=list(resolved.referenced), order_id=oid, history=history,
            degraded=["intent"] if guess.stage == "fallback" else [])
        if u.intent.name == Intent.INFORM and oid:  # a bare "KF100007" with nothing pending: look it up
            u.intent.name = Intent.ORDER_STATUS.value
        u = read_orders(u, self.factor, _expecting(slots, self.factor))
        # After the goal re-read: a broken jacket is a return goal, not a jacket search.
        u.shop = shopping.read(text, u.intent.name, slots, history, u.referenced)
        return u

    async def from_transcript(self, last: str, history: list[Turn]) -> Understanding:
        """An agent's draft: the last shopper message, read against the transcript (no dialog
        resolve: the order id may come from any earlier shopper message)."""
        guess = await self.classify(last)
        oid = order_ids().find(last, *[t.user for t in history[::-1]])
        lang = conversation_lang(last, [t.user for t in history])
        u = Understanding(text=last, standalone=last, lang=lang, intent=guess,
                          slots={"order_id": oid} if oid else {}, order_id=oid,
                          history=list(history), degraded=["intent"] if guess.stage == "fallback" else [])
        return read_orders(u, self.factor)

    async def _intent(self, text: str, standalone: str, early: asyncio.Task[IntentGuess] | None) -> IntentGuess:
        """The shopper's own words are what the model was trained on ("is it in stock?" is in its
        data); the rewrite only needs a second opinion when those were unclear."""
        if early is not None:
            first = await early
            if standalone == text or (first.stage != "fallback" and first.name != Intent.OUT_OF_SCOPE
                                      and first.confidence >= EARLY_INTENT_CONFIDENCE):
                return first
        return await self.classify(standalone)
