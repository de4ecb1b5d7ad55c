"""Step 3, act: run the tools the decision names, in parallel, each within its budget → `TurnFacts`.

Work may start before the decision (`Prefetch`): the order a message names is looked up, and a
message that reads like a product search is searched, while dialog still resolves it. `act`
uses a prefetched result when the decision asks for the same thing and drops it otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from gateway.clients import DependencyDown, DependencyError
from gateway.orders.source import OrderRecord, OrderSource
from gateway.orders.verify import Attempts, factor_matches
from gateway.turn.decide.situation import Situation
from gateway.turn.model import Decision, TurnFacts, Understanding
from gateway.turn.shop import shop
from gateway.turn.tools import Catalog, Knowledge
from gateway.turn.understand import Versions
from kefu.contracts import SearchResponse
from kefu.tracing import traced
from kefu.vocab import Intent, serves
from kefu.vocab.topics import topic_question

log = logging.getLogger("kefu.gateway.turn")

# A search started before the intent is known only when the words say "product": a speculative
# search that is then dropped still costs retrieval a query embedding.
_PRODUCT_HINT = re.compile(
    r"\b(show|find|search|looking for|buy|recommend|price|cost|how much|cheap|under|below|size|"
    r"colou?r|stock|available|similar)\b|找|买|推荐|多少钱|价格|便宜|有货|库存",
    re.IGNORECASE)
# A follow-up ("is it in stock?") usually resolves to products by id: no speculative search.
_REFERENCE = re.compile(r"\b(it|its|one|ones|first|second|third|last|this|that|these|those|them|cheaper)\b"
                        r"|第|这|那|它|便宜点", re.IGNORECASE)


def _drop(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()  # unused result: mark a failure as seen, never "never retrieved"


# The label must be this sure before its question stands in for the shopper's words: below it a
# wrong label would quote a confidently wrong passage.
TOPIC_CONFIDENCE = 0.5


def _topic(u: Understanding, d: Decision) -> str | None:
    """The help question the confident label stands for (kefu.vocab.topics), when it is the one
    this turn serves and the model, not the keyword fallback, named it."""
    g = u.intent
    if serves(g.label) != d.intent or g.stage == "fallback" or g.confidence < TOPIC_CONFIDENCE:
        return None
    return topic_question(g.label, u.lang)


# Labels whose own help question joins the shopper's words. These ask "what is your policy on X"
# in words the policy's sentences do not use: "Do you deliver in Canada" (the international
# sentence says "internationally"), "What is your customer care number?" (the contact passage's
# "order number" sentence won), "what your return policy is?" (the how-to-return sentence won over
# the 30-day window).
_WITH_TOPIC = frozenset({Intent.INTERNATIONAL_SHIPPING, Intent.DELIVERY_AREA, Intent.CONTACT_INFO,
                         Intent.STORE_LOCATIONS, Intent.RETURN_POLICY})


def _kb_question(u: Understanding) -> str:
    g = u.intent
    sure = g.stage != "fallback" and (g.confidence >= TOPIC_CONFIDENCE or bool(g.rule))
    topic = topic_question(g.label, u.lang) if g.label in _WITH_TOPIC and sure else None
    return f"{u.standalone} {topic}" if topic else u.standalone


class Prefetch:
    """Searches and order look-ups started ahead of the decision, keyed by what they ask."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.query: str | None = None
        self.search_task: asyncio.Task[SearchResponse] | None = None
        self.order_id: str | None = None
        self.order_task: asyncio.Task[OrderRecord | None] | None = None

    def on_text(self, text: str, order_id: str | None, referenced: list[str] | None = None, *,
                standalone: bool = False) -> None:
        """Start what these words will most likely need: called on the raw text, then again on the
        standalone rewrite (whose pronouns dialog has already replaced)."""
        if order_id:
            if order_id != self.order_id:
                _drop(self.order_task)
                self.order_id, self.order_task = order_id, asyncio.create_task(self.actor.lookup(order_id))
        elif not referenced and _PRODUCT_HINT.search(text) and (standalone or not _REFERENCE.search(text)):
            if text != self.query:
                _drop(self.search_task)
                self.query, self.search_task = text, asyncio.create_task(self.actor.catalog.search(text))

    def take_search(self, query: str) -> asyncio.Task[SearchResponse] | None:
        if self.search_task is None or query != self.query:
            return None
        task, self.search_task = self.search_task, None
        return task

    def take_order(self, order_id: str) -> asyncio.Task[OrderRecord | None] | None:
        if self.order_task is None or order_id != self.order_id:
            return None
        task, self.order_task = self.order_task, None
        return task

    def cancel(self) -> None:
        _drop(self.search_task)
        _drop(self.order_task)
        self.search_task = self.order_task = None


class Actor:
    def __init__(self, catalog: Catalog, orders: OrderSource, knowledge: Knowledge, versions: Versions,
                 attempts: Attempts, orders_budget_s: float) -> None:
        self.catalog = catalog
        self.orders = orders
        self.knowledge = knowledge
        self.versions = versions
        self.attempts = attempts
        self.orders_budget_s = orders_budget_s

    def prefetch(self) -> Prefetch:
        return Prefetch(self)

    async def lookup(self, order_id: str) -> OrderRecord | None:
        return await asyncio.wait_for(self.orders.lookup(order_id), self.orders_budget_s)

    @traced("turn.act")
    async def run(self, d: Decision, u: Understanding, s: Situation, cid: str = "",
                  pre: Prefetch | None = None) -> TurnFacts:
        pre = pre or self.prefetch()
        facts = TurnFacts()
        try:
            await asyncio.gather(self._products(d, pre, facts), self._order(d, u, s, cid, pre, facts),
                                 self._knowledge(d, u, facts))
        finally:
            pre.cancel()
        return facts

    async def _knowledge(self, d: Decision, u: Understanding, facts: TurnFacts) -> None:
        """The help-content passages for the question (the top one is what a template quotes)."""
        if not d.policy:
            return
        try:
            facts.passages = await self.knowledge.search(_kb_question(u), u.lang, d.policy)
            facts.kb_asked = True
            if not facts.passages and (topic := _topic(u, d)):  # the shopper's words found nothing
                facts.passages = await self.knowledge.search(topic, u.lang, d.policy)
                facts.kb_topic = topic
        except (DependencyDown, DependencyError) as exc:
            log.warning("knowledge base unavailable: %s", exc)
            facts.degraded.append("knowledge")
            return
        if facts.passages:  # the reply may state what the top two passages say
            facts.policy = (facts.passages[0].title, " ".join(p.text for p in facts.passages[:2]))

    async def _products(self, d: Decision, pre: Prefetch, facts: TurnFacts) -> None:
        if d.shop is not None:
            try:
                await shop(self.catalog, d.shop, facts)
            except (DependencyDown, DependencyError) as exc:
                log.warning("retrieval unavailable: %s", exc)
                facts.degraded.append("retrieval")
            return
        try:
            if d.product_ids:
                facts.hits = await self.catalog.products(d.product_ids)
                facts.search_meta = {"referenced": d.product_ids}
            if d.search and not facts.hits:
                sr = await (pre.take_search(d.search) or self.catalog.search(d.search))
                self.versions.catalog = sr.index_version or self.versions.catalog
                facts.hits = [h.model_dump() for h in sr.hits]
                if d.prefer_ids:
                    facts.hits.sort(key=lambda p: 0 if p["id"] in d.prefer_ids else 1)
                facts.search_meta = {"filters": sr.filters.model_dump(exclude_none=True), "query": sr.query,
                                     "index_version": sr.index_version}
        except (DependencyDown, DependencyError) as exc:
            log.warning("retrieval unavailable: %s", exc)
            facts.degraded.append("retrieval")

    async def _order(self, d: Decision, u: Understanding, s: Situation, cid: str, pre: Prefetch,
                     facts: TurnFacts) -> None:
        try:
            rec = await self._find(d, s, pre, facts)
            if rec is None:
                return
            if await self._verified(rec, u, s, cid, facts):
                facts.order = rec.facts
                if d.action is not None and d.action.order_id == rec.id:
                    facts.order = await self._perform(d, facts) or rec.facts
        except Exception as exc:  # SQL down, a shop API timing out: the turn still answers
            log.warning("orders unavailable: %s", exc)
            facts.degraded.append("orders")

    async def _find(self, d: Decision, s: Situation, pre: Prefetch, facts: TurnFacts) -> OrderRecord | None:
        """The order the decision names, or a signed-in shopper's only order."""
        if d.order_id:
            rec = await (pre.take_order(d.order_id) or self.lookup(d.order_id))
            facts.order_missing = rec is None
            return rec
        if d.list_orders and s.customer:
            mine = await asyncio.wait_for(self.orders.by_customer(s.customer), self.orders_budget_s)
            facts.customer_orders = [r.facts for r in mine]
            return mine[0] if len(mine) == 1 else None
        return None

    async def _verified(self, rec: OrderRecord, u: Understanding, s: Situation, cid: str, facts: TurnFacts) -> bool:
        """Whether the shopper may see this order: verified before, signed in as its owner, or the
        factor given now matches. Wrong factors count; past the limit the order is locked."""
        facts.found = rec.id
        owner = bool(s.customer) and (s.customer or "").strip().lower() == rec.contact.email.strip().lower()
        if rec.id in s.verified or owner:
            facts.verified = True
            return True
        if await self.attempts.locked(cid, rec.id):
            facts.locked = True
            return False
        given = {k: v for k, v in u.factors.items() if k == s.factor}
        for factor, value in given.items():
            if factor_matches(factor, value, rec.contact):
                facts.verified = facts.newly_verified = True
                return True
            await self.attempts.fail(cid, rec.id, value)
            facts.verify_failed = True
            facts.locked = await self.attempts.locked(cid, rec.id)
        return False

    async def _perform(self, d: Decision, facts: TurnFacts) -> dict[str, Any] | None:
        """Run the confirmed action once (its key makes a retry answer the first result), then
        read the order back from the order system."""
        plan = d.action
        assert plan is not None
        src = self.orders
        if plan.kind == "cancel":
            res = await src.cancel(plan.order_id, plan.key)
        elif plan.kind == "address":
            res = await src.update_address(plan.order_id, str(plan.params.get("address") or ""), plan.key)
        else:
            res = await src.create_return(plan.order_id, plan.kind, list(plan.params.get("items") or []),
                                          str(plan.params.get("reason") or "other"),
                                          float(plan.params.get("fee") or 0.0), plan.key)
        facts.action = {"kind": plan.kind, **res.public()}
        back = await self.lookup(plan.order_id)
        return back.facts if back else res.order
