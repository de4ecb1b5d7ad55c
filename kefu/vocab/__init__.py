"""kefu's one domain vocabulary: intent names and their groups, order ids, languages, order and
refund wording. Every service imports these; no other copy of them may exist (issue 12).

- `intents`: the taxonomy (an enum, versioned) and the groups the turn pipeline reasons with;
- `lang`: the one language rule (a Han character makes a message Chinese);
- `orders`: the shop's order-id pattern (a setting), order statuses and how each language says them.
"""

from kefu.vocab.intents import (
    HELP_QUESTIONS,
    ORDER_CONTEXT,
    ORDER_INTENTS,
    POLICY_INTENTS,
    PROBLEM_LABELS,
    PRODUCT_INTENTS,
    REFERENCE_INTENTS,
    SERVES,
    SOCIAL_INTENTS,
    TAXONOMY_VERSION,
    Intent,
    group_of,
    serves,
)
from kefu.vocab.lang import HAN_CLASS, conversation_lang, detect_lang, is_neutral, is_zh
from kefu.vocab.orders import (
    CANCELLABLE,
    REFUND_EN,
    REFUND_ZH,
    STATUS_EN,
    STATUS_ZH,
    STATUSES,
    OrderIds,
    order_ids,
    refund_words,
    status_words,
)

__all__ = [
    "CANCELLABLE", "HAN_CLASS", "HELP_QUESTIONS", "PROBLEM_LABELS", "SERVES", "STATUSES",
    "ORDER_CONTEXT", "ORDER_INTENTS", "POLICY_INTENTS", "PRODUCT_INTENTS",
    "REFERENCE_INTENTS", "REFUND_EN", "REFUND_ZH", "SOCIAL_INTENTS", "STATUS_EN", "STATUS_ZH",
    "TAXONOMY_VERSION", "Intent", "OrderIds", "conversation_lang", "detect_lang", "group_of", "is_neutral", "is_zh",
    "order_ids", "serves",
    "refund_words", "status_words",
]
