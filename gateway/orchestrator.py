"""One shopper turn, end to end, with no HTTP server code: lock → resolve → classify (+ search,
order lookup, policy in parallel) → grounded context → generation with a grounding check (or the
template) → record → publish → unlock.

Every dependency call has a budget; a failed dependency is named in `degraded` and the turn is
answered from what is left. Ordering per conversation comes from a local FIFO lock (one waiter
per process reaches the dialog service) plus the dialog service's fenced lock (across processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Histogram
from redis.asyncio import Redis

from gateway import grounding, policy, templates
from gateway.cache import ResponseCache
from gateway.clients import Dependencies, DependencyDown, DependencyError
from gateway.config import GatewaySettings
from gateway.events import AGENTS, EventHub
from gateway.fallback_intent import guess_intent, is_angry
from gateway.orders import OrderStore, find_order_id
from gateway.store import ConversationStore
from kefu.contracts import (
    ClassifyResponse,
    DialogState,
    RecordTurnRequest,
    ReplyContext,
    SearchRequest,
    SearchResponse,
    Turn,
)
from kefu.logging import mask_pii
from kefu.prompting import build_messages

log = logging.getLogger("kefu.gateway.turn")

TURNS = Counter("kefu_gateway_turns_total", "shopper turns answered", ["source"])
TURN_SECONDS = Histogram(
    "kefu_gateway_turn_seconds", "whole-turn latency inside the gateway", ["source"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DEGRADED = Counter("kefu_gateway_degraded_total", "turns answered without a dependency", ["dep"])
HANDOFFS = Counter("kefu_gateway_handoffs_total", "conversations handed to a human", ["reason"])
GROUNDING_REJECTS = Counter("kefu_gateway_grounding_rejections_total",
                            "generated replies replaced by the grounded template", ["reason"])

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]

PRODUCT_INTENTS = templates.PRODUCT_INTENTS
ORDER_INTENTS = templates.ORDER_INTENTS | {"return_request"}
POLICY_INTENTS = {"shipping_info", "return_request", "refund_status", "payment_issue", "coupon",
                  "account_help", "change_address", "change_order", "cancel_order"}
_PRODUCT_HINT = re.compile(
    r"\b(show|find|search|looking for|buy|recommend|price|cost|how much|cheap|under|below|size|"
    r"colou?r|stock|available|similar)\b|找|买|推荐|多少钱|价格|便宜|有货|库存",
    re.IGNORECASE)
REFERENCE_INTENTS = {"price_question", "stock_availability", "product_question"}
EARLY_INTENT_CONFIDENCE = 0.7  # raw-text intent kept for a rewritten follow-up at or above this
_REFERENCE = re.compile(r"\b(it|its|one|ones|first|second|third|last|this|that|these|those|them|cheaper)\b"
                        r"|第|这|那|它|便宜点", re.IGNORECASE)


@dataclass
class TurnResult:
    message_id: str
    reply: str
    intent: dict[str, Any]
    slots: dict[str, Any]
    products: list[dict[str, Any]]
    handoff: bool
    degraded: list[str]
    status: str
    lang: str
    source: str  # llm | template | cache | none (agent is handling)
    evidence: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The contract's JSON for a turn."""
        return {
            "message_id": self.message_id,
            "reply": {"text": self.reply, "source": self.source, "lang": self.lang},
            "intent": self.intent,
            "slots": self.slots,
            "products": self.products,
            "handoff": self.handoff,
            "degraded": self.degraded,
            "status": self.status,
        }


def product_view(hit: dict[str, Any]) -> dict[str, Any]:
    """What the widget shows and the evidence records for one product."""
    attrs = hit.get("attributes") or {}
    out = {k: hit.get(k) for k in ("id", "title", "price", "currency", "score", "category", "brand",
                                   "stock", "url", "image_url")}
    if attrs.get("title_zh"):
        out["title_zh"] = attrs["title_zh"]
    if hit.get("scorers"):
        out["scorers"] = hit["scorers"]
    return out


@dataclass
class _Early:
    """Work started on the raw text before dialog answered (classify, order look-up, search)."""

    intent_text: str | None = None
    intent: asyncio.Task | None = None
    order_id: str | None = None
    order: asyncio.Task | None = None
    search: asyncio.Task | None = None

    def cancel(self) -> None:
        for t in (self.intent, self.order, self.search):
            if t is None:
                continue
            if not t.done():
                t.cancel()
            elif not t.cancelled():
                t.exception()  # unused result: mark a failure as seen, never "never retrieved"


@dataclass
class _Lease:
    """The dialog lock held for one turn; `released` once a record call freed it."""

    id: str | None = None
    fence: int | None = None
    released: bool = False


class _LocalLocks:
    """FIFO asyncio locks per conversation, dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, cid: str) -> AsyncIterator[None]:
        lock, n = self._locks.get(cid, (asyncio.Lock(), 0))
        self._locks[cid] = (lock, n + 1)
        try:
            async with lock:
                yield
        finally:
            lock, n = self._locks[cid]
            if n <= 1:
                self._locks.pop(cid, None)
            else:
                self._locks[cid] = (lock, n - 1)


class Orchestrator:
    def __init__(self, settings: GatewaySettings, deps: Dependencies, redis: Redis,
                 store: ConversationStore, hub: EventHub, cache: ResponseCache, orders: OrderStore) -> None:
        self.s = settings
        self.deps = deps
        self.redis = redis
        self.store = store
        self.hub = hub
        self.cache = cache
        self.orders = orders
        self.locks = _LocalLocks()
        self.catalog_version = ""
        self.intent_version = ""
        self.grounding_checked = 0
        self.grounding_rejected = 0

    # ------------------------------------------------------------------ pending transcript
    def _pending_key(self, cid: str) -> str:
        return f"{self.s.redis_prefix}gw:pending:{cid}"

    async def _park(self, cid: str, req: RecordTurnRequest) -> None:
        """Dialog is down: keep the turn in Redis and hand it over when dialog is back."""
        req = req.model_copy(update={"evidence": {**req.evidence, "at": time.time()}})
        try:
            await self.redis.rpush(self._pending_key(cid), req.model_dump_json(exclude={"fence"}))
            await self.redis.expire(self._pending_key(cid), 7 * 24 * 3600)
        except Exception as exc:
            log.error("turn %s lost: dialog and Redis both failed (%s)", req.message_id, exc)

    async def pending(self, cid: str) -> list[dict[str, Any]]:
        try:
            return [json.loads(x) for x in await self.redis.lrange(self._pending_key(cid), 0, -1)]
        except Exception:
            return []

    async def _flush_pending(self, cid: str, fence: int | None) -> None:
        key = self._pending_key(cid)
        while True:
            raw = await self.redis.lindex(key, 0)
            if raw is None:
                return
            req = RecordTurnRequest.model_validate_json(raw)
            req.fence = fence
            try:
                await self.deps.record(cid, req)
            except DependencyError as exc:
                log.warning("dialog refused parked turn %s: %s", req.message_id, exc.body)
            await self.redis.lpop(key)

    # ------------------------------------------------------------------ turn
    def _cmid_key(self, cid: str, cmid: str) -> str:
        return f"{self.s.redis_prefix}gw:cmid:{cid}:{cmid}"

    async def _replayed(self, cid: str, cmid: str | None) -> TurnResult | None:
        """A retried message (same client_message_id) gets the first answer, not a second turn."""
        if not cmid:
            return None
        try:
            raw = await self.redis.get(self._cmid_key(cid, cmid))
        except Exception:
            return None
        if not raw:
            return None
        d = json.loads(raw)
        return TurnResult(d["message_id"], d["reply"]["text"], d["intent"], d["slots"], d["products"],
                          d["handoff"], d["degraded"], d.get("status", "bot"), d["reply"].get("lang", "en"),
                          d["reply"].get("source", "template"), {"replayed": True})

    async def handle(self, cid: str, text: str, emit: Emit | None = None,
                     client_message_id: str | None = None) -> TurnResult:
        t0 = time.perf_counter()
        async with self.locks.hold(cid):
            replay = await self._replayed(cid, client_message_id)
            if replay is not None:
                if emit:
                    await emit("intent", replay.intent)
                    await emit("products", {"products": replay.products})
                    await self._emit_text(emit, replay.reply)
                return replay
            degraded: list[str] = []
            status, parked = await self._status_and_parked(cid)
            lease = _Lease()
            # Classify and look the order up on the shopper's own words while dialog queues the
            # lock and resolves; only a rewritten follow-up needs a second look.
            early = _Early()
            if status != "human":
                early.intent_text = text
                early.intent = asyncio.create_task(self._classify(text, []))
                early.order_id = find_order_id(text)
                if early.order_id:
                    early.order = asyncio.create_task(asyncio.to_thread(self.orders.lookup, early.order_id))
                elif _PRODUCT_HINT.search(text) and not _REFERENCE.search(text):
                    # a follow-up ("is it in stock?") usually resolves to products by id: no search
                    early.search = asyncio.create_task(self._search(text))
            resolved = await self._lock_resolve(cid, text, degraded, lease)
            try:
                if lease.id is not None and parked:
                    # turns parked while dialog was down go first, then resolve again to see them
                    with contextlib.suppress(Exception):
                        await self._flush_pending(cid, lease.fence)
                        resolved = self._resolved(await self.deps.resolve(cid, text), text)
                result = await self._turn(cid, text, degraded, lease, emit, resolved, status, early)
                if client_message_id:
                    with contextlib.suppress(Exception):
                        await self.redis.set(self._cmid_key(cid, client_message_id),
                                             json.dumps(result.public(), default=str), ex=86400)
            finally:
                early.cancel()
                if lease.id is not None and not lease.released:
                    with contextlib.suppress(DependencyDown, DependencyError):
                        await self.deps.unlock(cid, lease.id)
        elapsed = time.perf_counter() - t0
        TURNS.labels(result.source).inc()
        TURN_SECONDS.labels(result.source).observe(elapsed)
        for dep in result.degraded:
            DEGRADED.labels(dep).inc()
        if log.isEnabledFor(logging.INFO):
            log.info("turn", extra={"fields": {"conversation_id": cid, "intent": result.intent.get("name"),
                                               "source": result.source, "degraded": result.degraded,
                                               "ms": round(elapsed * 1000, 1)}})
        return result

    async def _status_and_parked(self, cid: str) -> tuple[str, bool]:
        """The conversation's status (the gateway owns takeover/release, so its record wins) and
        whether turns wait in Redis from a dialog outage — one Redis round trip."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hget(self.store.key(cid), "status")
            pipe.exists(self._pending_key(cid))
            st, parked = await pipe.execute()
        except Exception:
            return await self.store.status(cid), False
        if not st:
            st = await self.store.status(cid)
        return str(st), bool(parked)

    @staticmethod
    def _resolved(r: Any, text: str) -> tuple[str, dict[str, Any], list[str], DialogState | None]:
        return r.standalone or text, dict(r.slots), list(r.referenced_products), r.state

    async def _lock_resolve(self, cid: str, text: str, degraded: list[str], lease: _Lease
                            ) -> tuple[str, dict[str, Any], list[str], DialogState | None]:
        """Lock and resolve in one dialog call; without dialog the turn runs on the text alone."""
        try:
            r, lk = await self.deps.lock_resolve(cid, text, templates.detect_lang(text))
        except (DependencyDown, DependencyError) as exc:
            log.warning("no dialog lock/resolve for %s: %s", cid, exc)
            degraded.append("dialog")
            return text, {}, [], None
        lease.id, lease.fence = lk.lease_id, lk.fence
        return self._resolved(r, text)

    async def _classify(self, text: str, degraded: list[str]) -> dict[str, Any]:
        try:
            c: ClassifyResponse = await self.deps.classify(text)
        except (DependencyDown, DependencyError) as exc:
            log.warning("intent unavailable: %s", exc)
            degraded.append("intent")
            return {"name": guess_intent(text), "confidence": 0.0, "stage": "fallback", "candidates": []}
        if c.model_version:
            self.intent_version = c.model_version
        name = "out_of_scope" if c.out_of_scope else c.intent
        return {"name": name, "confidence": round(float(c.confidence), 4), "stage": c.stage,
                "candidates": [x.model_dump() for x in c.candidates[:5]]}

    async def _search(self, text: str) -> SearchResponse:
        return await self.deps.search(SearchRequest(query=text[:500], k=5))

    async def _fetch_products(self, ids: list[str]) -> list[dict[str, Any]]:
        """Products the shopper referred to, read by id in one request (an unknown id is skipped)."""
        if not ids:
            return []
        return [{**p, "score": 1.0, "scorers": {"referenced": 1.0}}
                for p in await self.deps.get_products(ids) if isinstance(p, dict) and p.get("id")]

    async def _turn(self, cid: str, text: str, degraded: list[str], lease: _Lease, emit: Emit | None,
                    resolved: tuple[str, dict[str, Any], list[str], DialogState | None], status: str,
                    early: _Early | None = None) -> TurnResult:
        message_id = uuid.uuid4().hex
        t0 = time.perf_counter()
        lang = templates.detect_lang(text, "en")
        standalone, slots, referenced, state = resolved
        fence = lease.fence
        now = time.time()
        user_event = {"type": "message", "conversation_id": cid, "message_id": message_id, "role": "user",
                      "text": text, "at": now, "created_at": now}

        if status == "human":
            # An agent owns the conversation: record the message, push it to agents, stay silent.
            req = RecordTurnRequest(message_id=message_id, user_text=text, reply_text="", role="bot",
                                    slots=slots, evidence={"suppressed": "agent_handling", "lang": lang},
                                    fence=fence)
            await self._record(cid, req, degraded, lease=lease)
            await self._after_turn(cid, [user_event], ("user", text, None))
            return TurnResult(message_id, "", {"name": None, "confidence": None, "stage": None}, slots, [],
                              True, degraded, status, lang, "none", {"suppressed": "agent_handling"})

        order_id = find_order_id(str(slots.get("order_id") or ""), standalone, text)
        if order_id:
            slots.setdefault("order_id", order_id)
        # Search before the intent is known only when the words say "product": a speculative
        # search that is then dropped still costs retrieval a query embedding.
        speculate = not order_id and not referenced and bool(_PRODUCT_HINT.search(standalone))
        early = early or _Early()
        if speculate and early.search is not None and early.intent_text == standalone:
            search_task, early.search = early.search, None  # started on the raw text: same query
        else:
            search_task = asyncio.create_task(self._search(standalone)) if speculate else None
        if order_id and order_id == early.order_id and early.order is not None:
            order_task, early.order = early.order, None
        else:
            order_task = asyncio.create_task(asyncio.to_thread(self.orders.lookup, order_id)) if order_id else None
        intent = None
        if early.intent is not None:
            # The shopper's own words are what the intent model was trained on ("is it in stock?"
            # is in its data); the rewrite only needs a second opinion when those were unclear.
            first = await early.intent
            early.intent = None
            if early.intent_text == standalone or (
                    first["stage"] != "fallback" and first["name"] not in (None, "out_of_scope")
                    and float(first["confidence"] or 0) >= EARLY_INTENT_CONFIDENCE):
                intent = first
                if intent["stage"] == "fallback":
                    degraded.append("intent")
        if intent is None:
            intent = await self._classify(standalone, degraded)
        name = intent["name"] or "out_of_scope"
        if emit:
            await emit("intent", {k: intent[k] for k in ("name", "confidence", "stage")})

        products: list[dict[str, Any]] = []
        # full hits (description, attributes.title_zh) for the prompt and templates; `products`
        # is the slimmer view the widget and evidence get
        facts_products: list[dict[str, Any]] = []
        search_meta: dict[str, Any] = {}
        hits: list[dict[str, Any]] = []
        if name in PRODUCT_INTENTS and referenced and name in REFERENCE_INTENTS:
            # "how much is the second one?": the products are known by id — read them, no search
            if search_task is not None:
                search_task.cancel()
                search_task = None
            try:
                hits = await self._fetch_products(referenced[:3])
                search_meta = {"referenced": referenced[:3]}
            except (DependencyDown, DependencyError) as exc:
                log.warning("retrieval unavailable: %s", exc)
                degraded.append("retrieval")
        if name in PRODUCT_INTENTS and not hits and "retrieval" not in degraded:
            if search_task is None:
                search_task = asyncio.create_task(self._search(standalone))
            try:
                sr = await search_task
                self.catalog_version = sr.index_version or self.catalog_version
                hits = [h.model_dump() for h in sr.hits]
                if referenced:
                    hits.sort(key=lambda p: 0 if p["id"] in referenced else 1)
                search_meta = {"filters": sr.filters.model_dump(exclude_none=True), "query": sr.query,
                               "index_version": sr.index_version}
            except (DependencyDown, DependencyError) as exc:
                log.warning("retrieval unavailable: %s", exc)
                degraded.append("retrieval")
        elif search_task is not None:
            search_task.cancel()
        products = [product_view(h) for h in hits]
        facts_products = hits[:3]
        if emit:
            await emit("products", {"products": products})

        order: dict[str, Any] | None = None
        order_missing = False
        cancel: dict[str, Any] | None = None
        if order_task is not None:
            try:
                order = await order_task
            except Exception as exc:
                log.warning("orders table unavailable: %s", exc)
                degraded.append("orders")
            order_missing = order is None and "orders" not in degraded
        if name not in ORDER_INTENTS and name not in ("complaint",):
            order = None if name not in ("payment_issue",) else order
            order_missing = False
        if name == "cancel_order" and order is not None:
            res = await asyncio.to_thread(self.orders.cancel, order["id"])
            order = res.order or order
            cancel = {"cancelled": res.cancelled, "reason": res.reason}

        pol = policy.section_for(name, lang) if name in POLICY_INTENTS else None
        policy_text = pol[1] if pol else None

        handoff_reason = self._handoff_reason(name, text, state)
        handoff = handoff_reason is not None or status == "pending_human"
        if handoff_reason and status == "bot":
            status = "pending_human"
            await self._set_status(cid, status, handoff_reason, degraded)
            HANDOFFS.labels(handoff_reason).inc()

        note = None
        if cancel is not None:
            note = ("order cancelled" if cancel["cancelled"] else f"order cannot be cancelled: {cancel['reason']}")
        elif order_missing:
            note = f"no order found with id {order_id}"
        ctx = ReplyContext(lang=lang, intent=name, user_text=text, slots=slots, order=order,
                           products=facts_products, policy=policy_text,
                           history=(state.turns[-5:] if state else []), note=note)
        template = templates.render(ctx, handoff=handoff_reason is not None, cancel=cancel,
                                    order_missing=order_missing)
        reply, source, verdict = await self._phrase(ctx, template, slots, standalone,
                                                    handoff_reason is not None, degraded, emit)

        evidence = {
            "intent": intent, "standalone": standalone, "lang": lang, "slots": slots,
            "products": [{k: p.get(k) for k in ("id", "title", "price", "score", "scorers")} for p in products],
            "order_id": order["id"] if order else None, "order_status": order["status"] if order else None,
            "cancel": cancel, "policy_section": pol[0] if pol else None, "search": search_meta,
            "degraded": sorted(set(degraded)), "source": source, "handoff_reason": handoff_reason,
            "grounding": verdict,
        }
        latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        req = RecordTurnRequest(message_id=message_id, user_text=text, reply_text=reply, role="bot",
                                intent=name, confidence=intent["confidence"], stage=intent["stage"],
                                slots=slots, products=[p["id"] for p in products[:5]], evidence=evidence,
                                latency_ms=latency_ms, fence=fence)
        await self._record(cid, req, degraded, products, lease=lease)
        evidence["degraded"] = sorted(set(degraded))
        now = time.time()
        await self._after_turn(cid, [user_event, {
            "type": "message", "conversation_id": cid, "message_id": message_id, "role": "bot", "text": reply,
            "at": now, "created_at": now, "evidence": evidence}], ("bot", reply, name))
        intent_public = {"name": name, "confidence": intent["confidence"], "stage": intent["stage"]}
        return TurnResult(message_id, reply, intent_public, slots, products, handoff,
                          sorted(set(degraded)), status, lang, source, evidence)

    async def _after_turn(self, cid: str, events: list[dict[str, Any]],
                          touch: tuple[str, str, str | None]) -> None:
        """The turn's live events for the dashboards and the registry's last activity: one Redis
        round trip (a lost live event never fails a turn; the transcript keeps it)."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            for ev in events:
                pipe.publish(*self.hub.encode(AGENTS, ev))
            self.store.queue_cache(pipe, cid, self.store.touch_fields(*touch))
            await pipe.execute()
        except Exception as exc:
            log.warning("live events/registry update failed for %s: %s", cid, exc)

    def _handoff_reason(self, intent: str, text: str, state: DialogState | None) -> str | None:
        if intent == "human_agent":
            return "asked_for_human"
        if intent == "out_of_scope" and state is not None:
            window = [t for t in state.turns[-4:] if t.user]
            if any(t.intent == "out_of_scope" for t in window):
                return "out_of_scope_twice"
        if intent == "complaint" and is_angry(text):
            return "angry_shopper"
        return None

    async def _set_status(self, cid: str, status: str, reason: str | None, degraded: list[str]) -> None:
        await self.store.set_status(cid, status, reason)
        if "dialog" not in degraded:
            try:
                await self.deps.set_status(cid, status)
            except (DependencyDown, DependencyError) as exc:
                log.warning("dialog did not take status %s for %s: %s", status, cid, exc)
        event = {"type": "status", "conversation_id": cid, "status": status, "reason": reason,
                 "at": time.time(), "created_at": time.time()}
        await self.hub.publish(AGENTS, event)
        await self.hub.publish(EventHub.conv_topic(cid), event)

    async def _record(self, cid: str, req: RecordTurnRequest, degraded: list[str],
                      products: list[dict[str, Any]] | None = None, lease: _Lease | None = None) -> None:
        """Record the turn; with a held lease, the same call releases the conversation lock."""
        if "dialog" in degraded:
            await self._park(cid, req)
            return
        details = [{"id": p["id"], "title": p.get("title") or "", "title_zh": p.get("title_zh") or "",
                    "price": p.get("price")} for p in (products or [])[:5]]
        release = lease.id if lease is not None and lease.id and not lease.released else None
        try:
            out = await self.deps.record(cid, req, details, release_lease=release)
            if release and isinstance(out, dict) and out.get("released") is not None:
                lease.released = True  # type: ignore[union-attr]
        except DependencyDown as exc:
            log.warning("record failed for %s: %s", cid, exc)
            degraded.append("dialog")
            await self._park(cid, req)
        except DependencyError as exc:
            log.error("dialog refused turn %s: %s", req.message_id, exc.body)
            degraded.append("dialog")
            await self._park(cid, req)

    # ------------------------------------------------------------------ phrasing
    async def _phrase(self, ctx: ReplyContext, template: str, slots: dict[str, Any], standalone: str,
                      handoff: bool, degraded: list[str], emit: Emit | None
                      ) -> tuple[str, str, dict[str, Any] | None]:
        """Returns (reply, source, grounding verdict); streams `token` events when asked."""
        if not self.s.llm_enabled or handoff:
            await self._emit_text(emit, template)
            return template, "template", None
        cache_key = None
        if ResponseCache.cacheable(ctx.intent, slots, ctx.user_text):
            cache_key = self.cache.key(intent=ctx.intent, lang=ctx.lang, slots=slots, text=standalone,
                                       catalog_version=self.catalog_version,
                                       model_version=f"{self.intent_version}/{self.s.llm_model}")
            hit = await self.cache.get(cache_key)
            if hit:
                await self._emit_text(emit, hit)
                return hit, "cache", {"ok": True, "cached": True}
        messages = build_messages(ctx)
        try:
            if emit:
                reply, verdict = await self._stream_llm(messages, ctx, emit)
            else:
                reply = (await self.deps.chat(messages)).strip()
                verdict = grounding.check(reply, ctx)
        except DependencyDown as exc:
            log.warning("generation unavailable: %s", exc)
            degraded.append("llm")
            if emit:
                await emit("reset", {"reason": "llm unavailable"})
            await self._emit_text(emit, template)
            return template, "template", None
        self.grounding_checked += 1
        if verdict.ok:
            grounding.GROUNDING.labels("accepted").inc()
            if cache_key:
                await self.cache.put(cache_key, reply)
            return reply, "llm", {"ok": True}
        self.grounding_rejected += 1
        grounding.GROUNDING.labels("rejected").inc()
        for code in sorted(set(verdict.codes)):
            GROUNDING_REJECTS.labels(code).inc()
        log.warning("grounding check rejected a generated reply: %s", mask_pii("; ".join(verdict.reasons)))
        if emit:
            await emit("reset", {"reason": "grounding"})
            await self._emit_text(emit, template)
        return template, "template", {"ok": False, "reasons": verdict.reasons, "codes": verdict.codes,
                                      "rejected": reply[:500]}

    async def _stream_llm(self, messages: list[dict[str, str]], ctx: ReplyContext,
                          emit: Emit) -> tuple[str, grounding.Verdict]:
        """Stream tokens, but only after each completed word passes the grounding check, so a
        made-up fact is never shown even for a moment."""
        buf = ""
        sent = 0
        async for piece in self.deps.chat_stream(messages):
            buf += piece
            cut = max(buf.rfind(" "), buf.rfind("\n"), buf.rfind("，"), buf.rfind("。"))
            if cut + 1 > sent:
                prefix = buf[: cut + 1]
                v = grounding.check(prefix, ctx, partial=True)
                if not v.ok:
                    return buf, v
                await emit("token", {"text": prefix[sent:]})
                sent = len(prefix)
        reply = buf.strip()
        verdict = grounding.check(reply, ctx)
        if verdict.ok and len(buf) > sent:
            await emit("token", {"text": buf[sent:]})
        return reply, verdict

    @staticmethod
    async def _emit_text(emit: Emit | None, text: str) -> None:
        if not emit or not text:
            return
        parts = re.findall(r"\S+\s*|\s+", text) if " " in text else [text[i:i + 8] for i in range(0, len(text), 8)]
        chunk = ""
        for p in parts:
            chunk += p
            if len(chunk) >= 24:
                await emit("token", {"text": chunk})
                chunk = ""
        if chunk:
            await emit("token", {"text": chunk})

    # ------------------------------------------------------------------ agents
    async def agent_message(self, cid: str, text: str, agent: str) -> dict[str, Any]:
        """An agent's message: recorded in order with shopper turns, pushed live to the shopper."""
        message_id = uuid.uuid4().hex
        async with self.locks.hold(cid):
            degraded: list[str] = []
            lease = _Lease()
            try:
                lk = await self.deps.lock(cid)
                lease.id, lease.fence = lk.lease_id, lk.fence
            except (DependencyDown, DependencyError):
                degraded.append("dialog")
            try:
                req = RecordTurnRequest(message_id=message_id, user_text=None, reply_text=text, role="agent",
                                        evidence={"agent": agent}, fence=lease.fence)
                await self._record(cid, req, degraded, lease=lease)
            finally:
                if lease.id is not None and not lease.released:
                    with contextlib.suppress(DependencyDown, DependencyError):
                        await self.deps.unlock(cid, lease.id)
        now = time.time()
        event = {"type": "message", "conversation_id": cid, "message_id": message_id, "role": "agent",
                 "text": text, "agent": agent, "at": now, "created_at": now}
        await self.store.touch(cid, "agent", text)
        await self.hub.publish(EventHub.conv_topic(cid), event)
        await self.hub.publish(AGENTS, event)
        return {"message_id": message_id, "role": "agent", "text": text, "created_at": now,
                "degraded": sorted(set(degraded))}

    async def change_status(self, cid: str, status: str, reason: str | None) -> None:
        degraded: list[str] = []
        await self._set_status(cid, status, reason, degraded)

    async def suggest(self, cid: str, last_user_text: str, history: list[Turn]) -> dict[str, Any]:
        """A drafted reply for the agent: the same grounded pipeline, nothing recorded."""
        degraded: list[str] = []
        lang = templates.detect_lang(last_user_text)
        intent = await self._classify(last_user_text, degraded)
        name = intent["name"] or "out_of_scope"
        products: list[dict[str, Any]] = []
        hits: list[dict[str, Any]] = []
        if name in PRODUCT_INTENTS:
            try:
                hits = [h.model_dump() for h in (await self._search(last_user_text)).hits]
                products = [product_view(h) for h in hits]
            except (DependencyDown, DependencyError):
                degraded.append("retrieval")
        order = None
        oid = find_order_id(last_user_text, *[t.user for t in history[::-1]])
        if oid and name in ORDER_INTENTS | {"complaint"}:
            order = await asyncio.to_thread(self.orders.lookup, oid)
        pol = policy.section_for(name, lang) if name in POLICY_INTENTS else None
        ctx = ReplyContext(lang=lang, intent=name, user_text=last_user_text,
                           slots={"order_id": oid} if oid else {}, order=order, products=hits[:3],
                           policy=pol[1] if pol else None, history=history[-5:])
        template = templates.render(ctx, order_missing=bool(oid and order is None and name in ORDER_INTENTS))
        text, source, verdict = template, "template", None
        if self.s.llm_enabled:
            try:
                draft = (await self.deps.chat(build_messages(ctx))).strip()
                v = grounding.check(draft, ctx)
                verdict = {"ok": v.ok, "reasons": v.reasons}
                if v.ok:
                    text, source = draft, "llm"
            except DependencyDown:
                degraded.append("llm")
        return {"text": text, "source": source, "intent": intent, "products": products[:3],
                "order": order, "policy_section": pol[0] if pol else None, "grounding": verdict,
                "degraded": sorted(set(degraded))}
