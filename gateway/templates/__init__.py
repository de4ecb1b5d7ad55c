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
from kefu.vocab import ORDER_INTENTS, PRODUCT_INTENTS, Intent


def render(ctx: ReplyContext, *, handoff: bool = False, order_missing: bool = False) -> str:
    """The grounded reply for this turn, from facts only."""
    intent = ctx.intent
    if handoff or intent == Intent.HUMAN_AGENT:
        return social.handoff(ctx.lang)
    if (text := actions.reply(ctx)) is not None:
        return text
    if (text := social.small_talk(intent, ctx.lang)) is not None:
        return text
    if intent in ORDER_INTENTS and (ctx.order or intent != Intent.RETURN_REQUEST or order_missing):
        return orders.reply(ctx, order_missing=order_missing)
    if intent in PRODUCT_INTENTS:
        if ctx.shipping and ctx.products:
            return policy.shipping(ctx, title(ctx.products[0], ctx.lang))
        return products.reply(ctx)
    if ctx.policy:
        return policy.reply(ctx)
    if ctx.knowledge == "none" and intent not in (Intent.OUT_OF_SCOPE, Intent.COMPLAINT):
        return policy.unsure(ctx.lang)
    return social.fallback(intent, ctx.lang)
