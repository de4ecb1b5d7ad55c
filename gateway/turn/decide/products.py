"""Which catalog look-ups a product turn needs."""

from __future__ import annotations

from gateway.turn.model import Decision, Understanding
from kefu.vocab import PRODUCT_INTENTS, REFERENCE_INTENTS, Intent

REFERENCED_MAX = 3


def plan(u: Understanding, d: Decision) -> None:
    if u.shop is not None:  # a search, refinement, question about shown products or comparison
        d.shop = u.shop
        d.intent = Intent.PRODUCT_SEARCH if u.shop.kind in ("search", "refine") else Intent.PRODUCT_QUESTION
        return
    if u.intent.name not in PRODUCT_INTENTS:
        return
    if u.referenced and u.intent.name in REFERENCE_INTENTS:
        d.product_ids = u.referenced[:REFERENCED_MAX]  # "how much is the second one?": by id, no search
    d.search = u.standalone  # also the fallback when the referenced ids are gone
    d.prefer_ids = list(u.referenced)
