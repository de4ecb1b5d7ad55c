"""When the bot hands the conversation to a person."""

from __future__ import annotations

from gateway.turn.model import Understanding
from kefu.vocab import Intent

# How many earlier shopper turns count for "out of scope twice".
OOS_WINDOW = 4


def out_of_scope_again(u: Understanding) -> bool:
    """A second message the bot cannot help with, within the last few turns: the reply says so
    and offers a person (a "yes" hands over). It does not hand over by itself: someone asking a
    shop's chat about hotels twice needs an honest "not here", not an agent's time."""
    if u.intent.name != Intent.OUT_OF_SCOPE:
        return False
    window = [t for t in u.history[-OOS_WINDOW:] if t.user]
    return any(t.intent == Intent.OUT_OF_SCOPE for t in window)


def reason(u: Understanding) -> str | None:
    if u.intent.name == Intent.HUMAN_AGENT:
        return "asked_for_human"
    if u.intent.name == Intent.COMPLAINT and u.angry:
        return "angry_shopper"
    return None
