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
from gateway.turn.model import Decision, TurnFacts, Understanding
from gateway.turn.tools import Catalog, Orders, Policies
from gateway.turn.understand import Versions
from kefu.contracts import SearchResponse

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


class Prefetch:
    """Searches and order look-ups started ahead of the decision, keyed by what they ask."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.query: str | None = None
        self.search_task: asyncio.Task[SearchResponse] | None = None
        self.order_id: str | None = None
        self.order_task: asyncio.Task[dict[str, Any] | None] | None = None

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

    def take_order(self, order_id: str) -> asyncio.Task[dict[str, Any] | None] | None:
        if self.order_task is None or order_id != self.order_id:
            return None
        task, self.order_task = self.order_task, None
        return task

    def cancel(self) -> None:
        _drop(self.search_task)
        _drop(self.order_task)
        self.search_task = self.order_task = None


class Actor:
    def __init__(self, catalog: Catalog, orders: Orders, policies: Policies, versions: Versions,
                 orders_budget_s: float) -> None:
        self.catalog = catalog
        self.orders = orders
        self.policies = policies
        self.versions = versions
        self.orders_budget_s = orders_budget_s

    def prefetch(self) -> Prefetch:
        return Prefetch(self)

    async def lookup(self, order_id: str) -> dict[str, Any] | None:
        return await asyncio.wait_for(asyncio.to_thread(self.orders.lookup, order_id), self.orders_budget_s)

    async def run(self, d: Decision, u: Understanding, pre: Prefetch | None = None) -> TurnFacts:
        pre = pre or self.prefetch()
        facts = TurnFacts()
        try:
            await asyncio.gather(self._products(d, pre, facts), self._order(d, pre, facts))
        finally:
            pre.cancel()
        if d.policy:
            facts.policy = self.policies.section(d.policy, u.lang)
        return facts

    async def _products(self, d: Decision, pre: Prefetch, facts: TurnFacts) -> None:
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

    async def _order(self, d: Decision, pre: Prefetch, facts: TurnFacts) -> None:
        if not d.order_id:
            return
        try:
            facts.order = await (pre.take_order(d.order_id) or self.lookup(d.order_id))
        except Exception as exc:  # SQL down, a shop API timing out: the turn still answers
            log.warning("orders unavailable: %s", exc)
            facts.degraded.append("orders")
            return
        facts.order_missing = facts.order is None
        if d.cancel and facts.order is not None:
            res = await asyncio.to_thread(self.orders.cancel, facts.order["id"])
            facts.order = res.order or facts.order
            facts.cancel = {"cancelled": res.cancelled, "reason": res.reason}
