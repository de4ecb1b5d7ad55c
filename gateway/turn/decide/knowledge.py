"""Which questions look the shop's knowledge base up.

Driven by what the shopper asks, not by a table of intents: every turn that is not a product
search, small talk, out of scope or a request for a person asks the knowledge base, with the intent as a hint,
and the knowledge base's own threshold decides whether anything answers. A new intent (the
taxonomy grows) needs no code here. A product question that asks about shipping gets both the
product and the shop's shipping rules (the price with shipping, the free-shipping threshold).
"""

from __future__ import annotations

import re

from gateway.turn.model import Decision, Understanding
from kefu.vocab import PRODUCT_INTENTS, SOCIAL_INTENTS, Intent

# Out of scope asks nothing either: measured on the dev split, the e5 scores of questions about
# hotels, banks or phones (1.29–1.34) overlap those of real help questions, so a KB lookup for them
# quoted the refunds or password sentence to "我想去贩毒怎么联系". The honest answer is "not something
# I can help with".
NO_LOOKUP = SOCIAL_INTENTS | {Intent.HUMAN_AGENT, Intent.OUT_OF_SCOPE}
SHIPPING = re.compile(r"\b(ship|shipping|shipped|delivery|deliver|postage)\b|运费|邮费|包邮|免邮|配送|快递费", re.I)


def plan(u: Understanding, d: Decision) -> None:
    if d.handoff_reason or d.intent in NO_LOOKUP:
        return
    if d.intent in PRODUCT_INTENTS:
        if SHIPPING.search(u.text):
            d.shipping_quote = True
            d.policy = d.intent
        return
    d.policy = d.intent
