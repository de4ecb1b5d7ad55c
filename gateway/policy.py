"""Which section of the shop's policy text answers which intent.

The policy text itself comes from `kefu.data` (bundled) so replies quote the shop's own words.
"""

from __future__ import annotations

import logging
from functools import lru_cache

log = logging.getLogger("kefu.gateway.policy")

# intent -> section names to try, English and Chinese headings alike.
INTENT_SECTIONS: dict[str, tuple[str, ...]] = {
    "shipping_info": ("shipping", "delivery", "配送", "运输", "发货", "物流"),
    "change_address": ("shipping", "address", "配送", "地址", "发货"),
    "return_request": ("returns", "return", "退货", "退换"),
    "refund_status": ("refunds", "refund", "退款"),
    "payment_issue": ("payment", "支付", "付款"),
    "coupon": ("coupons", "coupon", "promotions", "discount", "优惠", "折扣"),
    "account_help": ("account", "账户", "账号"),
    "change_order": ("orders", "order changes", "changes", "cancellation", "订单", "修改"),
    "cancel_order": ("cancellation", "cancel", "orders", "取消", "订单"),
}


@lru_cache(maxsize=4)
def sections(lang: str) -> dict[str, str]:
    try:
        from kefu import data as kdata  # written by another part of the project
    except ImportError:
        return {}
    try:
        return dict(kdata.policy_sections(lang))
    except Exception as exc:  # missing file: answer without policy rather than fail
        log.warning("policy text unavailable for %s: %s", lang, exc)
        return {}


def _topics_from_data() -> dict[str, object]:
    try:
        from kefu import data as kdata
    except ImportError:
        return {}
    topics = getattr(kdata, "POLICY_TOPICS", None)
    return dict(topics) if isinstance(topics, dict) else {}


def section_for(intent: str, lang: str) -> tuple[str, str] | None:
    """(heading, text) of the policy section answering this intent, or None."""
    secs = sections(lang) or sections("en")
    if not secs:
        return None
    wanted: list[str] = []
    topic = _topics_from_data().get(intent)
    if isinstance(topic, str):
        wanted.append(topic)
    elif isinstance(topic, list | tuple):
        wanted.extend(str(t) for t in topic)
    wanted.extend(INTENT_SECTIONS.get(intent, ()))
    if not wanted:
        return None
    lowered = {k.lower().strip(): k for k in secs}
    for w in wanted:
        key = lowered.get(w.lower())
        if key:
            return key, secs[key].strip()
    for w in wanted:
        for low, key in lowered.items():
            if w.lower() in low:
                return key, secs[key].strip()
    return None


def catalog_of_topics(lang: str) -> list[str]:
    return list((sections(lang) or sections("en")).keys())
