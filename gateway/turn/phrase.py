"""Step 4, phrase: the decision and its facts → the reply a shopper reads.

The grounded template is always built first (it states only the facts); the LLM, when
configured, may phrase it better, but every generated reply passes the grounding check
(`gateway.grounding`) and the reply check (`gateway.reply_check`: whole sentences, every fact the
decision put in, no claimed action) or the template goes out instead. Streamed replies are checked word by
word, so a made-up fact is never shown even for a moment.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from prometheus_client import Counter

from gateway import grounding, reply_check, templates
from gateway.cache import ResponseCache
from gateway.clients import Dependencies, DependencyDown
from gateway.orders.rules import ShopRules
from gateway.turn.model import Decision, Emit, Move, Outcome, Phrased, TurnFacts, Understanding
from gateway.turn.understand import Versions
from gateway.turn.understand.sentiment import Sentiment
from kefu.contracts import ReplyContext
from kefu.logging import mask_pii
from kefu.prompting import build_messages
from kefu.tracing import traced
from kefu.vocab import PROBLEM_LABELS

log = logging.getLogger("kefu.gateway.turn")

GROUNDING_REJECTS = Counter("kefu_gateway_grounding_rejections_total",
                            "generated replies replaced by the grounded template", ["reason"])
HISTORY_TURNS = 5
FACT_PRODUCTS = 3
PASSAGES_SHOWN = 2


def note_for(d: Decision, f: TurnFacts) -> str | None:
    """The one line of the facts that says what happened (an action's result, a missing order)."""
    if f.action is not None:
        return f"{f.action['kind']}: " + ("done" if f.action.get("ok") else f"not possible: {f.action.get('reason')}")
    if f.order_missing:
        return f"no order found with id {d.order_id}"
    return None


def passage_view(p: Any) -> dict[str, Any]:
    return {"id": p.id, "title": p.title, "text": p.text, "answer": p.answer or p.text, "source": p.source,
            "score": round(float(p.score), 4)}


def shipping_quote(d: Decision, f: TurnFacts, rules: ShopRules | None) -> dict[str, Any] | None:
    """A product's price with the shop's standard shipping (fee, free-shipping threshold)."""
    if not d.shipping_quote or not f.hits or rules is None or f.hits[0].get("price") is None:
        return None
    p = f.hits[0]
    return {"product_id": p.get("id"), **rules.shipping_for(float(p["price"])), "currency": p.get("currency", "USD")}


def reply_context(u: Understanding, d: Decision, f: TurnFacts, o: Outcome | None = None,
                  factor: str = "email", rules: ShopRules | None = None) -> ReplyContext:
    """Everything the reply may state: the grounding check compares generated replies against it.
    An order the shopper has not proved is theirs is named by id only — no other fact of it."""
    o = o or Outcome(d.move)
    return ReplyContext(
        lang=u.lang, intent=d.intent, user_text=u.text, slots={k: v for k, v in u.slots.items() if k[:1] != "_"},
        order=f.order if d.use_order else None, products=f.hits[:FACT_PRODUCTS],
        policy=f.policy[1] if f.policy else None, history=u.history[-HISTORY_TURNS:], note=note_for(d, f),
        move=o.move.value, found_order=f.found if f.found and not f.verified else None,
        verify={"factor": factor, "failed": f.verify_failed, "locked": f.locked}, offer=o.offer, action=f.action,
        refusal=o.refusal, declined=d.declined, customer_orders=f.customer_orders if f.order is None else [],
        passages=[passage_view(p) for p in f.passages[:PASSAGES_SHOWN]],
        knowledge="none" if f.kb_asked and not f.passages else ("answered" if f.passages else None),
        shipping=shipping_quote(d, f, rules), shopping=f.shopping or None,
        search_unavailable=not f.hits and "retrieval" in f.degraded,
        goal=o.goal.to_dict() if o.goal else None, dropped=d.dropped, mood=mood(u),
        clarify=d.clarify)


def mood(u: Understanding) -> str:
    """How the reply should sound: the shopper's sentiment, or "troubled" when calm words tell of
    a problem (a damaged item, a late parcel, a double charge), which still earns an apology."""
    label = Sentiment(frustrated=u.angry, urgent=u.urgent, praise=u.praise).label
    return "troubled" if label == "neutral" and u.intent.label in PROBLEM_LABELS else label


def template(ctx: ReplyContext, f: TurnFacts) -> str:
    return templates.render(ctx, handoff=ctx.move == Move.HANDOFF, order_missing=f.order_missing)


def template_only(ctx: ReplyContext) -> bool:
    """Turns about verification or an order action are worded by the templates alone: their exact
    words are the commitment (and an unverified order never reaches the generator)."""
    return (ctx.move in (Move.HANDOFF, Move.VERIFY, Move.CONFIRM, Move.ACT) or ctx.action is not None
            or bool(ctx.dropped) or (ctx.goal or {}).get("intent") == "human_agent"
            or bool(ctx.refusal) or ctx.declined or bool(ctx.verify.get("locked")) or ctx.found_order is not None
            or ctx.search_unavailable
            or bool(ctx.shopping and (ctx.shopping.get("kind") in ("attribute", "compare") or not ctx.products)))


async def emit_text(emit: Emit | None, text: str) -> None:
    """A finished text as `token` events of about 24 characters (words kept whole)."""
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


class Phraser:
    def __init__(self, llm_enabled: bool, llm_model: str, deps: Dependencies, cache: ResponseCache,
                 versions: Versions) -> None:
        self.llm_enabled = llm_enabled
        self.llm_model = llm_model
        self.deps = deps
        self.cache = cache
        self.versions = versions
        self.checked = 0
        self.rejected = 0

    @traced("turn.phrase")
    async def phrase(self, ctx: ReplyContext, f: TurnFacts, standalone: str,
                     emit: Emit | None = None, *, use_cache: bool = True) -> Phrased:
        """(reply, source, grounding verdict); streams `token` events when `emit` is given."""
        fallback = template(ctx, f)
        if not self.llm_enabled or template_only(ctx):
            await emit_text(emit, fallback)
            return Phrased(fallback, "template")
        key = self._cache_key(ctx, standalone) if use_cache else None
        if key and (hit := await self.cache.get(key)):
            await emit_text(emit, hit)
            return Phrased(hit, "cache", {"ok": True, "cached": True})
        try:
            reply, verdict = await self._generate(ctx, emit)
        except DependencyDown as exc:
            log.warning("generation unavailable: %s", exc)
            if emit:
                await emit("reset", {"reason": "llm unavailable"})
            await emit_text(emit, fallback)
            return Phrased(fallback, "template", degraded=["llm"])
        return await self._judged(reply, verdict, fallback, key, emit)

    def _cache_key(self, ctx: ReplyContext, standalone: str) -> str | None:
        if not ResponseCache.cacheable(ctx.intent, ctx.slots, ctx.user_text):
            return None
        return self.cache.key(intent=ctx.intent, lang=ctx.lang, slots=ctx.slots, text=standalone,
                              catalog_version=self.versions.catalog,
                              model_version=f"{self.versions.intent}/{self.llm_model}")

    async def _generate(self, ctx: ReplyContext, emit: Emit | None) -> tuple[str, grounding.Verdict]:
        messages = build_messages(ctx)
        if emit:
            return await self._stream(messages, ctx, emit)
        reply = (await self.deps.chat(messages)).strip()
        return reply, reply_check.check(reply, ctx)

    async def _judged(self, reply: str, verdict: grounding.Verdict, fallback: str, key: str | None,
                      emit: Emit | None) -> Phrased:
        self.checked += 1
        if verdict.ok:
            grounding.GROUNDING.labels("accepted").inc()
            if key:
                await self.cache.put(key, reply)
            return Phrased(reply, "llm", {"ok": True})
        self.rejected += 1
        grounding.GROUNDING.labels("rejected").inc()
        for code in sorted(set(verdict.codes)):
            GROUNDING_REJECTS.labels(code).inc()
        log.warning("grounding check rejected a generated reply: %s", mask_pii("; ".join(verdict.reasons)))
        if emit:
            await emit("reset", {"reason": "grounding"})
            await emit_text(emit, fallback)
        verdict_out: dict[str, Any] = {"ok": False, "reasons": verdict.reasons, "codes": verdict.codes,
                                       "rejected": reply[:500]}
        return Phrased(fallback, "template", verdict_out)

    async def _stream(self, messages: list[dict[str, str]], ctx: ReplyContext,
                      emit: Emit) -> tuple[str, grounding.Verdict]:
        """Stream tokens, but only after each completed word passes the grounding check."""
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
        verdict = reply_check.check(reply, ctx)
        if verdict.ok and len(buf) > sent:
            await emit("token", {"text": buf[sent:]})
        return reply, verdict
