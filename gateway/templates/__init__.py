"""Grounded template replies, English and Chinese, built only from the turn's facts.

These answer whenever generation is off, slow, down, or its wording fails the grounding check,
so every reply a shopper gets states only what the order system, the catalog or the shop's help
content says. One module per kind of answer: social (greetings, handoff, fallbacks), orders,
products, policy; `words` has the shared formatting.
"""

from __future__ import annotations

from gateway.templates import actions, orders, policy, products, social
from gateway.templates.words import title
from kefu.contracts import ReplyContext
from kefu.vocab import ORDER_CONTEXT, ORDER_INTENTS, PRODUCT_INTENTS, Intent

PROBLEM_REASONS = ("faulty", "damaged", "wrong_item")
SORRY_OPENERS = ("I'm sorry", "I'm really sorry", "Sorry", "很抱歉", "非常抱歉", "抱歉")


def _goal_reason(ctx: ReplyContext) -> str | None:
    """Why the item of a pending return goes back, when it is a problem with the item."""
    g = ctx.goal or {}
    reason = (g.get("params") or {}).get("reason")
    return str(reason) if g.get("intent") == Intent.RETURN_REQUEST and reason in PROBLEM_REASONS else None


def render(ctx: ReplyContext, *, handoff: bool = False, order_missing: bool = False) -> str:
    """The grounded reply for this turn, from facts only; a frustrated shopper hears an apology
    first (and, when no fact answers, the next step and a person on offer)."""
    if ctx.dropped:
        return social.dropped(ctx.dropped, ctx.lang)
    if handoff or ctx.intent == Intent.HUMAN_AGENT:
        return social.handoff(ctx.lang, sorry=ctx.mood == "frustrated")
    if (ctx.goal or {}).get("intent") == Intent.HUMAN_AGENT and ctx.intent == Intent.OUT_OF_SCOPE:
        return social.out_of_scope_offer(ctx.lang)
    if (ctx.goal or {}).get("intent") == Intent.HUMAN_AGENT:
        return social.sorry_offer(ctx.intent in ORDER_CONTEXT or bool(ctx.found_order), ctx.lang)
    text = _render(ctx, order_missing)
    if ctx.mood in ("frustrated", "troubled") and not text.startswith(SORRY_OPENERS):
        return social.sorry(ctx.lang) + text
    return text


def _with_return_step(ctx: ReplyContext, quoted: str) -> str:
    """A return or refund asked for with no order known: after the policy, the step that starts it
    (unless the quoted passage already asks for the order number)."""
    if ctx.move != "ask" or ctx.intent != Intent.RETURN_REQUEST or ctx.order \
            or "order number" in quoted or "订单号" in quoted:
        return quoted
    return quoted + ("" if ctx.lang == "zh" else " ") + orders.ask_id(ctx.lang)


def _render(ctx: ReplyContext, order_missing: bool) -> str:
    intent = ctx.intent
    if (text := actions.reply(ctx)) is not None:
        return text
    if ctx.move == "ask" and not ctx.order and (reason := _goal_reason(ctx)):
        return orders.ask_return(reason, ctx.lang)
    if (text := social.small_talk(intent, ctx.lang)) is not None:
        return text
    if ctx.clarify and not ctx.order:
        return social.clarify(intent, ctx.lang)
    if intent in ORDER_INTENTS and (ctx.order or intent != Intent.RETURN_REQUEST or order_missing):
        return orders.reply(ctx, order_missing=order_missing)
    if intent in PRODUCT_INTENTS:
        if ctx.shipping and ctx.products:
            return policy.shipping(ctx, title(ctx.products[0], ctx.lang))
        return products.reply(ctx)
    if ctx.policy:
        return _with_return_step(ctx, policy.reply(ctx))
    if ctx.move == "ask" and intent == Intent.RETURN_REQUEST:
        return orders.ask_return("other", ctx.lang)  # with no passage found, a return starts by finding the order
    if ctx.knowledge == "none" and intent not in (Intent.OUT_OF_SCOPE, Intent.COMPLAINT):
        return policy.unsure(ctx.lang)
    return social.fallback(intent, ctx.lang)
