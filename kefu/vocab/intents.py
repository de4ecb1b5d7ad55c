"""The intent taxonomy: every name the intent model predicts, and the groups the turn uses.

A group says what a turn with that intent needs: PRODUCT turns read the catalog, ORDER turns an
order, POLICY turns the shop's help content, REFERENCE intents may be about products already shown.
`TAXONOMY_VERSION` changes whenever a name is added, renamed or regrouped, so a model trained on
another taxonomy is noticed (the intent service reports both).
"""

from __future__ import annotations

from enum import StrEnum

TAXONOMY_VERSION = "2026.12-v1"


class Intent(StrEnum):
    PRODUCT_SEARCH = "product_search"
    PRODUCT_QUESTION = "product_question"
    RECOMMENDATION = "recommendation"
    PRICE_QUESTION = "price_question"
    STOCK_AVAILABILITY = "stock_availability"
    ORDER_STATUS = "order_status"
    CANCEL_ORDER = "cancel_order"
    CHANGE_ORDER = "change_order"
    CHANGE_ADDRESS = "change_address"
    REFUND_STATUS = "refund_status"
    RETURN_REQUEST = "return_request"
    SHIPPING_INFO = "shipping_info"
    PAYMENT_ISSUE = "payment_issue"
    COUPON = "coupon"
    ACCOUNT_HELP = "account_help"
    COMPLAINT = "complaint"
    HUMAN_AGENT = "human_agent"
    GREETING = "greeting"
    GOODBYE = "goodbye"
    THANKS = "thanks"
    OUT_OF_SCOPE = "out_of_scope"


_I = Intent
PRODUCT_INTENTS: frozenset[str] = frozenset(
    {_I.PRODUCT_SEARCH, _I.PRODUCT_QUESTION, _I.RECOMMENDATION, _I.PRICE_QUESTION, _I.STOCK_AVAILABILITY})
# Follow-ups that may be about products already shown ("how much is the second one?").
REFERENCE_INTENTS: frozenset[str] = frozenset({_I.PRICE_QUESTION, _I.STOCK_AVAILABILITY, _I.PRODUCT_QUESTION})
# Intents about one order: the turn asks for the order id when none is known.
ORDER_INTENTS: frozenset[str] = frozenset(
    {_I.ORDER_STATUS, _I.CANCEL_ORDER, _I.CHANGE_ORDER, _I.CHANGE_ADDRESS, _I.REFUND_STATUS, _I.RETURN_REQUEST})
# Intents whose reply may use an order that the shopper named (a complaint about an order, a
# payment question about one), without asking for an id when none is given.
ORDER_CONTEXT: frozenset[str] = ORDER_INTENTS | {_I.COMPLAINT, _I.PAYMENT_ISSUE}
# Intents answered (in part) from the shop's policy / help content.
POLICY_INTENTS: frozenset[str] = frozenset(
    {_I.SHIPPING_INFO, _I.RETURN_REQUEST, _I.REFUND_STATUS, _I.PAYMENT_ISSUE, _I.COUPON, _I.ACCOUNT_HELP,
     _I.CHANGE_ADDRESS, _I.CHANGE_ORDER, _I.CANCEL_ORDER})
SOCIAL_INTENTS: frozenset[str] = frozenset({_I.GREETING, _I.GOODBYE, _I.THANKS})
ESCALATION_INTENTS: frozenset[str] = frozenset({_I.HUMAN_AGENT, _I.COMPLAINT})

_GROUPS: dict[str, frozenset[str]] = {
    "product": PRODUCT_INTENTS, "reference": REFERENCE_INTENTS, "order": ORDER_INTENTS,
    "policy": POLICY_INTENTS, "social": SOCIAL_INTENTS, "escalation": ESCALATION_INTENTS,
}


def group_of(intent: str) -> set[str]:
    """The groups an intent belongs to ('out_of_scope' and unknown names: none)."""
    return {g for g, members in _GROUPS.items() if intent in members}
