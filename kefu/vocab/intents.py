"""The intent taxonomy: every name the intent model predicts, and the groups the turn uses.

Taxonomy v2 has 72 labels for what shoppers actually ask (a damaged item is not a return
question, "where is my parcel" is not "it was left at the wrong door"). The turn pipeline has
fewer *flows* than labels: each finer label is served by one of the 21 v1 names (`SERVES`: a
damaged item is handled by the return flow, a double charge by the payment one), or by the
generic answer from the shop's help content when it names no flow (`serves` returns it as is).
The label is what the shopper is told and what the knowledge base gets as its hint; the flow
is what the turn does.

A group says what a turn with that intent needs: PRODUCT turns read the catalog, ORDER turns an
order, POLICY turns the shop's help content, REFERENCE intents may be about products already shown.
`TAXONOMY_VERSION` changes whenever a name is added, renamed or regrouped, so a model trained on
another taxonomy is noticed (the intent service reports both).
"""

from __future__ import annotations

from enum import StrEnum

TAXONOMY_VERSION = "2026.12-v2"


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
    # ---- finer labels (taxonomy v2): each is served by one of the flows above (SERVES)
    TRACKING_NUMBER = "tracking_number"
    DELIVERY_PROBLEM = "delivery_problem"
    PACKAGE_WRONG_LOCATION = "package_wrong_location"
    ORDER_CONFIRMATION = "order_confirmation"
    PLACE_ORDER = "place_order"
    UPGRADE_SHIPPING = "upgrade_shipping"
    MISSING_ITEM = "missing_item"
    WRONG_ITEM = "wrong_item"
    DAMAGED_ITEM = "damaged_item"
    DEFECTIVE_ITEM = "defective_item"
    RETURN_STATUS = "return_status"
    EXCHANGE_REQUEST = "exchange_request"
    REFUND_REQUEST = "refund_request"
    INVOICE_REQUEST = "invoice_request"
    DELIVERY_TIME = "delivery_time"
    SAME_DAY_DELIVERY = "same_day_delivery"
    INTERNATIONAL_SHIPPING = "international_shipping"
    DELIVERY_AREA = "delivery_area"
    FREE_SHIPPING = "free_shipping"
    CARRIER_INFO = "carrier_info"
    RETURN_POLICY = "return_policy"
    REFUND_POLICY = "refund_policy"
    WARRANTY = "warranty"
    PRICE_MATCH = "price_match"
    CONTACT_INFO = "contact_info"
    STORE_LOCATIONS = "store_locations"
    GIFT_WRAP = "gift_wrap"
    PAYMENT_METHODS = "payment_methods"
    DOUBLE_CHARGE = "double_charge"
    BILLING_QUESTION = "billing_question"
    DISCOUNT_REQUEST = "discount_request"
    GIFT_CARD = "gift_card"
    INSTALLMENT_PAYMENT = "installment_payment"
    SEARCH_REFINEMENT = "search_refinement"
    PRODUCT_COMPARISON = "product_comparison"
    SIZE_GUIDE = "size_guide"
    PRODUCT_CUSTOMIZATION = "product_customization"
    PRODUCT_CARE = "product_care"
    RESTOCK_NOTIFICATION = "restock_notification"
    PASSWORD_RESET = "password_reset"
    LOGIN_PROBLEM = "login_problem"
    UPDATE_ACCOUNT = "update_account"
    DELETE_ACCOUNT = "delete_account"
    NEWSLETTER_SUBSCRIPTION = "newsletter_subscription"
    PRAISE = "praise"
    FEEDBACK = "feedback"
    CHIT_CHAT = "chit_chat"
    AFFIRM = "affirm"
    DENY = "deny"
    INFORM = "inform"
    ABUSIVE_LANGUAGE = "abusive_language"


_I = Intent

# Finer label → the flow that serves it. Labels absent here are answered from the help content
# (gift cards, price matching, store locations…) or, for the social ones, by a small-talk reply.
SERVES: dict[str, Intent] = {
    _I.TRACKING_NUMBER: _I.ORDER_STATUS, _I.DELIVERY_PROBLEM: _I.ORDER_STATUS,
    _I.PACKAGE_WRONG_LOCATION: _I.ORDER_STATUS, _I.ORDER_CONFIRMATION: _I.ORDER_STATUS,
    _I.UPGRADE_SHIPPING: _I.CHANGE_ORDER,
    _I.MISSING_ITEM: _I.RETURN_REQUEST, _I.WRONG_ITEM: _I.RETURN_REQUEST, _I.DAMAGED_ITEM: _I.RETURN_REQUEST,
    _I.DEFECTIVE_ITEM: _I.RETURN_REQUEST, _I.EXCHANGE_REQUEST: _I.RETURN_REQUEST,
    _I.REFUND_REQUEST: _I.RETURN_REQUEST, _I.RETURN_STATUS: _I.REFUND_STATUS,
    # Shipping questions keep the shipping flow: its knowledge-base hint is the one the help
    # content's ranking was tuned on; the finer label still picks the fallback help question.
    _I.DELIVERY_TIME: _I.SHIPPING_INFO, _I.SAME_DAY_DELIVERY: _I.SHIPPING_INFO,
    _I.INTERNATIONAL_SHIPPING: _I.SHIPPING_INFO, _I.DELIVERY_AREA: _I.SHIPPING_INFO,
    _I.FREE_SHIPPING: _I.SHIPPING_INFO, _I.CARRIER_INFO: _I.SHIPPING_INFO,
    _I.DOUBLE_CHARGE: _I.PAYMENT_ISSUE, _I.BILLING_QUESTION: _I.PAYMENT_ISSUE, _I.DISCOUNT_REQUEST: _I.COUPON,
    _I.SEARCH_REFINEMENT: _I.PRODUCT_SEARCH, _I.PRODUCT_COMPARISON: _I.PRODUCT_QUESTION,
    _I.RESTOCK_NOTIFICATION: _I.STOCK_AVAILABILITY, _I.PRAISE: _I.THANKS, _I.ABUSIVE_LANGUAGE: _I.COMPLAINT,
}


# Labels that tell of something gone wrong: the reply opens with an apology even when the words
# are calm ("the box arrived crushed"), before the next step.
PROBLEM_LABELS: frozenset[str] = frozenset(
    {_I.DELIVERY_PROBLEM, _I.PACKAGE_WRONG_LOCATION, _I.MISSING_ITEM, _I.WRONG_ITEM, _I.DAMAGED_ITEM,
     _I.DEFECTIVE_ITEM, _I.DOUBLE_CHARGE, _I.BILLING_QUESTION})


def serves(intent: str) -> str:
    """The flow a label is handled by: its `SERVES` entry, else the label itself."""
    return SERVES.get(intent, intent)


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
SOCIAL_INTENTS: frozenset[str] = frozenset(
    {_I.GREETING, _I.GOODBYE, _I.THANKS, _I.CHIT_CHAT, _I.AFFIRM, _I.DENY, _I.INFORM, _I.FEEDBACK})
# Questions the help content answers without an order or a product (the finer policy labels):
# like thanks, they leave a pending goal in place.
HELP_QUESTIONS: frozenset[str] = frozenset(
    {_I.PLACE_ORDER, _I.INVOICE_REQUEST, _I.DELIVERY_TIME, _I.SAME_DAY_DELIVERY, _I.INTERNATIONAL_SHIPPING,
     _I.DELIVERY_AREA, _I.FREE_SHIPPING, _I.CARRIER_INFO, _I.RETURN_POLICY, _I.REFUND_POLICY, _I.WARRANTY,
     _I.PRICE_MATCH, _I.CONTACT_INFO, _I.STORE_LOCATIONS, _I.GIFT_WRAP, _I.PAYMENT_METHODS, _I.GIFT_CARD,
     _I.INSTALLMENT_PAYMENT, _I.SIZE_GUIDE, _I.PRODUCT_CUSTOMIZATION, _I.PRODUCT_CARE, _I.PASSWORD_RESET,
     _I.LOGIN_PROBLEM, _I.UPDATE_ACCOUNT, _I.DELETE_ACCOUNT, _I.NEWSLETTER_SUBSCRIPTION})
ESCALATION_INTENTS: frozenset[str] = frozenset({_I.HUMAN_AGENT, _I.COMPLAINT})

_GROUPS: dict[str, frozenset[str]] = {
    "product": PRODUCT_INTENTS, "reference": REFERENCE_INTENTS, "order": ORDER_INTENTS,
    "policy": POLICY_INTENTS | HELP_QUESTIONS, "social": SOCIAL_INTENTS, "escalation": ESCALATION_INTENTS,
}


def group_of(intent: str) -> set[str]:
    """The groups an intent belongs to, through the flow that serves it ('out_of_scope' and
    unknown names: none)."""
    flow = serves(intent)
    return {g for g, members in _GROUPS.items() if intent in members or flow in members}
