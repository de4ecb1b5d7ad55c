"""Answers quoted from the shop's policy / help content."""

from __future__ import annotations

from gateway.templates.words import say
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


def reply(ctx: ReplyContext) -> str:
    text = snippet(ctx.policy or "")
    if ctx.intent == Intent.RETURN_REQUEST:
        return say(ctx.lang, f"Our returns policy: {text}", f"退货政策：{text}")
    return text
