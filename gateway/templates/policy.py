"""Answers from the shop's knowledge base: the best one or two sentences of the passage that
answers this question, quoted; when nothing answered, that the bot is not sure, and a person."""

from __future__ import annotations

from gateway.templates.words import money, say
from kefu.contracts import ReplyContext
from kefu.vocab import Intent

SNIPPET_CHARS = 420


def snippet(policy: str, limit: int = SNIPPET_CHARS) -> str:
    """Whole sentences of the policy up to `limit` characters."""
    text = " ".join(policy.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for stop in ("。", ". "):
        i = cut.rfind(stop)
        if i > limit // 3:
            return cut[: i + 1].strip()
    return cut.rstrip() + "…"


def answer(ctx: ReplyContext) -> str:
    """The quoted sentences of the best passage (the whole top passage text without them)."""
    if ctx.passages:
        top = ctx.passages[0]
        return snippet(str(top.get("answer") or top.get("text") or ""))
    return snippet(ctx.policy or "")


def unsure(lang: str) -> str:
    return say(lang, "I'm not sure about that, and I'd rather not guess. Shall I connect you with a person from "
                     "our team?",
               "这个问题我不太确定，不想给您错误的信息。需要我为您转接人工客服吗？")


def shipping(ctx: ReplyContext, name: str) -> str:
    """"X is $42.00, so with standard shipping it comes to $47.99 — free on orders over $50.00"."""
    q = ctx.shipping or {}
    cur = str(q.get("currency") or "USD")
    price, total, fee, over = (money(q.get(k), cur) for k in ("subtotal", "total", "standard_fee", "free_over"))
    if q.get("free"):
        return say(ctx.lang, f"{name} is {price}, so it ships free — standard shipping is free on orders over {over}.",
                   f"{name} 售价 {price}，订单满 {over} 免运费，这件商品可以包邮。")
    return say(ctx.lang, f"{name} is {price}, so with standard shipping ({fee}) it comes to {total} — shipping is free "
                         f"on orders over {over}.",
               f"{name} 售价 {price}，加上标准运费 {fee} 共 {total}；订单满 {over} 免运费。")


def reply(ctx: ReplyContext) -> str:
    text = answer(ctx)
    if ctx.intent == Intent.RETURN_REQUEST:
        return say(ctx.lang, f"Our returns policy: {text}", f"退货政策：{text}")
    return text
