"""When the bot hands the conversation to a person."""

from __future__ import annotations

from gateway.turn.model import Understanding
from kefu.vocab import Intent

# How many earlier shopper turns count for "out of scope twice".
OOS_WINDOW = 4


def reason(u: Understanding) -> str | None:
    if u.intent.name == Intent.HUMAN_AGENT:
        return "asked_for_human"
    if u.intent.name == Intent.OUT_OF_SCOPE:
        window = [t for t in u.history[-OOS_WINDOW:] if t.user]
        if any(t.intent == Intent.OUT_OF_SCOPE for t in window):
            return "out_of_scope_twice"
    if u.intent.name == Intent.COMPLAINT and u.angry:
        return "angry_shopper"
    return None
