"""Grounded template replies, English and Chinese, built only from the turn's facts.

These answer whenever generation is off, slow, down, or its wording fails the grounding check,
so every reply a shopper gets states only what the orders table, the catalog or the policy says.
"""

from __future__ import annotations

from typing import Any

from kefu.contracts import ReplyContext
from kefu.settings import get_settings
from kefu.vocab import ORDER_INTENTS, PRODUCT_INTENTS, REFUND_EN, REFUND_ZH, STATUS_EN, STATUS_ZH, Intent


def _money(value: Any, currency: str = "USD") -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    sym = {"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£"}.get((currency or "USD").upper())
    return f"{sym}{v:.2f}" if sym else f"{v:.2f} {currency}"


def _title(p: dict[str, Any], lang: str) -> str:
    if lang == "zh":
        zh = (p.get("attributes") or {}).get("title_zh")
        if zh:
            return str(zh)
    return str(p.get("title") or p.get("id"))


def _order_en(o: dict[str, Any]) -> str:
    st = o.get("status", "")
    s = f"Order {o['id']} is {STATUS_EN.get(st, st)}."
    if st == "shipped":
        if o.get("carrier") and o.get("tracking_number"):
            s += f" It is on its way with {o['carrier']}, tracking number {o['tracking_number']}."
        if o.get("eta"):
            s += f" Expected delivery: {o['eta']}."
    elif st == "delivered" and o.get("delivered_at"):
        s += f" It was delivered on {o['delivered_at']}."
    if rs := o.get("refund_status"):  # as in Chinese: a delivered order can have a return under way
        s += " " + REFUND_EN.get(rs, f"Refund status: {str(rs).replace('_', ' ')}.")
    s += f" Order total: {_money(o.get('total'), o.get('currency', 'USD'))}."
    return s


def _order_zh(o: dict[str, Any]) -> str:
    st = o.get("status", "")
    s = f"订单 {o['id']} 的状态：{STATUS_ZH.get(st, st)}。"
    if st == "shipped":
        if o.get("carrier") and o.get("tracking_number"):
            s += f"承运商 {o['carrier']}，物流单号 {o['tracking_number']}。"
        if o.get("eta"):
            s += f"预计送达：{o['eta']}。"
    elif st == "delivered" and o.get("delivered_at"):
        s += f"已于 {o['delivered_at']} 签收。"
    if rs := o.get("refund_status"):
        s += f"退款状态：{REFUND_ZH.get(rs, str(rs).replace('_', ' '))}。"
    s += f"订单金额：{_money(o.get('total'), o.get('currency', 'USD'))}。"
    return s


def _products(ctx: ReplyContext, n: int = 3) -> str:
    zh = ctx.lang == "zh"
    items = []
    for p in ctx.products[:n]:
        price = _money(p.get("price"), p.get("currency", "USD")) if p.get("price") is not None else ""
        stock = p.get("stock")
        bits = _title(p, ctx.lang) + (f" — {price}" if price else "")
        if stock is not None and int(stock) <= 0:
            bits += "（暂时缺货）" if zh else " (out of stock)"
        items.append(bits)
    sep = "；" if zh else "; "
    return sep.join(items)


def _policy_snippet(policy: str, limit: int = 420) -> str:
    text = " ".join(policy.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for stop in ("。", ". "):
        i = cut.rfind(stop)
        if i > limit // 3:
            return cut[: i + 1].strip()
    return cut.rstrip() + "…"


CANCEL_WHY_EN = {
    "shipped": "it has already shipped — once it arrives you can return it under our returns policy",
    "delivered": "it has already been delivered — you can request a return instead",
    "already_cancelled": "it is already cancelled",
    "refunded": "it has already been refunded",
}
CANCEL_WHY_ZH = {
    "shipped": "订单已发货，收货后可按退货政策申请退货",
    "delivered": "订单已签收，您可以申请退货",
    "already_cancelled": "订单已经取消",
    "refunded": "订单已经退款",
}


def render(ctx: ReplyContext, *, handoff: bool = False, cancel: dict[str, Any] | None = None,
           order_missing: bool = False) -> str:
    """The grounded reply for this turn's intent, from facts only."""
    zh = ctx.lang == "zh"
    intent = ctx.intent
    o = ctx.order
    if handoff or intent == "human_agent":
        return ("好的，我正在为您转接人工客服，请稍候，客服会在这里回复您。" if zh else
                "I'm connecting you with a human agent now — please stay here, they will reply in this chat.")
    if intent == "greeting":
        return ("您好！我可以帮您查询订单、寻找商品，或解答配送、退货和付款问题。" if zh else
                "Hi! I can help you track an order, find products, or answer questions about "
                "shipping, returns and payment.")
    if intent == "goodbye":
        return "感谢光临，再见！" if zh else "Thanks for visiting — goodbye!"
    if intent == "thanks":
        return "不客气！还有什么可以帮您？" if zh else "You're welcome! Anything else I can help with?"

    if intent in ORDER_INTENTS and (o or intent != Intent.RETURN_REQUEST):
        example = get_settings().order_id_example
        if order_missing:
            oid = ctx.slots.get("order_id", "")
            return (f"没有找到订单 {oid}，请核对订单号（例如 {example}）。" if zh else
                    f"I couldn't find order {oid}. Please check the order number (it looks like {example}).")
        if not o:
            return (f"请提供您的订单号（例如 {example}），我来帮您查询。" if zh else
                    f"Please tell me your order number (it looks like {example}) and I'll look it up.")
        if intent == "cancel_order" and cancel is not None:
            if cancel.get("cancelled"):
                extra_en = " Your refund is pending." if o.get("refund_status") == "pending" else ""
                extra_zh = "退款处理中。" if o.get("refund_status") == "pending" else ""
                return (f"订单 {o['id']} 已为您取消。{extra_zh}" if zh else
                        f"Order {o['id']} has been cancelled.{extra_en}")
            why = cancel.get("reason", "")
            if zh:
                return f"订单 {o['id']} 无法取消：{CANCEL_WHY_ZH.get(why, '当前状态为' + STATUS_ZH.get(why, why))}。"
            return f"Order {o['id']} can't be cancelled: {CANCEL_WHY_EN.get(why, 'its status is ' + why)}."
        base = _order_zh(o) if zh else _order_en(o)
        if intent in ("change_order", "change_address"):
            if o.get("status") in ("pending", "paid"):
                base += ("订单尚未发货，我为您转接人工客服修改。" if zh else
                         " It hasn't shipped yet, so an agent can still change it — I'll pass this on.")
            else:
                base += ("订单已发货，无法再修改。" if zh else
                         " It has already shipped, so it can no longer be changed.")
        if ctx.policy and intent in ("change_address",):
            base += " " + _policy_snippet(ctx.policy, 200)
        return base

    if intent in PRODUCT_INTENTS:
        if not ctx.products:
            return ("抱歉，没有找到符合条件的商品，换个说法试试？" if zh else
                    "Sorry, I couldn't find matching products. Could you describe it differently?")
        lst = _products(ctx, 1 if intent in ("price_question", "stock_availability",
                                             "product_question") else 3)
        if intent == "stock_availability":
            p = ctx.products[0]
            stock = int(p.get("stock") or 0)
            if zh:
                return f"{_title(p, 'zh')}" + (f"有货（库存 {stock} 件）。" if stock > 0 else "目前缺货。")
            return f"{_title(p, 'en')} is " + (f"in stock ({stock} available)." if stock > 0 else "out of stock.")
        if intent in ("price_question", "product_question"):
            return f"{lst}。" if zh else f"{lst}."
        return (f"为您找到这些商品：{lst}。" if zh else f"Here are some products you may like: {lst}.")

    if ctx.policy:
        snippet = _policy_snippet(ctx.policy)
        if intent == "return_request":
            return (f"退货政策：{snippet}" if zh else f"Our returns policy: {snippet}")
        return snippet
    if intent == "complaint":
        return ("非常抱歉给您带来不好的体验。我可以为您转接人工客服处理。" if zh else
                "I'm sorry about your experience. I can connect you with a human agent to sort it out.")
    if intent == "out_of_scope":
        return ("抱歉，这个问题我无法回答。我可以帮您查询订单、寻找商品，或解答配送、退货和付款问题。" if zh else
                "Sorry, I can't help with that. I can track orders, find products, and answer "
                "questions about shipping, returns and payment.")
    return ("我可以帮您查询订单、寻找商品，或解答配送、退货和付款问题。" if zh else
            "I can help you track orders, find products, and answer questions about shipping, returns and payment.")
