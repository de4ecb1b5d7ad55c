"""Which catalog look-ups a product turn needs."""

from __future__ import annotations

from gateway.turn.model import Decision, Understanding
from kefu.vocab import PRODUCT_INTENTS, REFERENCE_INTENTS

REFERENCED_MAX = 3


def plan(u: Understanding, d: Decision) -> None:
    if u.intent.name not in PRODUCT_INTENTS:
        return
    if u.referenced and u.intent.name in REFERENCE_INTENTS:
        d.product_ids = u.referenced[:REFERENCED_MAX]  # "how much is the second one?": by id, no search
    d.search = u.standalone  # also the fallback when the referenced ids are gone
    d.prefer_ids = list(u.referenced)
