"""Keyword rules that name the intent when the intent service is down, so a degraded turn
still reaches the right facts (an order id still gets its order status)."""

from __future__ import annotations

import re

from kefu.vocab import order_ids

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("human_agent", re.compile(r"\b(human|agent|real person|representative|operator)\b|人工|真人|客服人员")),
    ("cancel_order", re.compile(r"\bcancel\b|取消")),
    ("refund_status", re.compile(r"\brefund\b|退款")),
    ("return_request", re.compile(r"\breturns?\b|退货|退换")),
    ("order_status", re.compile(r"\b(order|package|parcel|tracking|delivery status)\b|订单|包裹|物流|快递")),
    ("shipping_info", re.compile(r"\b(shipping|deliver|delivery)\b|配送|运费|发货")),
    ("payment_issue", re.compile(r"\b(pay|payment|card|charged)\b|支付|付款|扣款")),
    ("coupon", re.compile(r"\b(coupon|discount|promo)\b|优惠|折扣")),
    ("greeting", re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b|^\s*(你好|您好|嗨)")),
    ("thanks", re.compile(r"\b(thanks|thank you)\b|谢谢")),
    ("goodbye", re.compile(r"\b(bye|goodbye)\b|再见")),
    ("product_search", re.compile(
        r"\b(show|find|looking for|search|buy|need|want|recommend|shoes?|shirts?|under \d+)\b"
        r"|找|买|推荐|鞋|衣")),
]


def guess_intent(text: str) -> str:
    low = text.lower()
    if order_ids().find(text) and not re.search(r"cancel|取消|refund|退款|return|退货", low):
        return "order_status"
    for name, rx in _RULES:
        if rx.search(low):
            return name
    return "out_of_scope"
