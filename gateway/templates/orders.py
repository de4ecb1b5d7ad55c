"""Answers about one order: its state, why it cannot be cancelled, asking for its number."""

from __future__ import annotations

from typing import Any

from gateway.templates.policy import snippet
from gateway.templates.words import money, say
from kefu.contracts import ReplyContext
from kefu.settings import get_settings
from kefu.vocab import CANCELLABLE, REFUND_EN, REFUND_ZH, STATUS_EN, STATUS_ZH, Intent

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
ADDRESS_POLICY_CHARS = 200


def state_en(o: dict[str, Any]) -> str:
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
    return s + f" Order total: {money(o.get('total'), o.get('currency', 'USD'))}."


def state_zh(o: dict[str, Any]) -> str:
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
    return s + f"订单金额：{money(o.get('total'), o.get('currency', 'USD'))}。"


def state(o: dict[str, Any], lang: str) -> str:
    return state_zh(o) if lang == "zh" else state_en(o)


def ask_id(lang: str) -> str:
    ex = get_settings().order_id_example
    return say(lang, f"Which order is it? Please tell me the order number (it looks like {ex}) and I'll look it up.",
               f"请问是哪个订单？请提供订单号（例如 {ex}），我来帮您查询。")


def ask_return(reason: str, lang: str) -> str:
    """A faulty, damaged or wrong item: the return goal starts by finding the order ("other": a
    return or refund whose reason is not known yet)."""
    ex = get_settings().order_id_example
    if reason == "other":
        return say(lang, f"I can help with a return or refund: please tell me the order number (it looks like {ex}) "
                         "and I'll check the return window and the next step.",
                   f"我可以帮您办理退货或退款：请提供订单号（例如 {ex}），我来查看退货期限和下一步。")
    what_en = {"damaged": "it arrived damaged", "wrong_item": "you got the wrong item"}.get(reason, "it's faulty")
    what_zh = {"damaged": "商品到货破损", "wrong_item": "收到的商品不对"}.get(reason, "商品出现质量问题")
    return say(lang, f"I'm sorry {what_en}. I can help you return it: please tell me the order number (it looks "
                     f"like {ex}) and I'll check the return window and the next step.",
               f"很抱歉{what_zh}。我可以帮您办理退货：请提供订单号（例如 {ex}），我来查看退货期限和下一步。")


def not_found(oid: str, lang: str) -> str:
    ex = get_settings().order_id_example
    return say(lang, f"I couldn't find order {oid}. Please check the order number (it looks like {ex}).",
               f"没有找到订单 {oid}，请核对订单号（例如 {ex}）。")


def change(o: dict[str, Any], lang: str) -> str:
    if o.get("status") in CANCELLABLE:
        return say(lang, " It hasn't shipped yet, so an agent can still change it — I'll pass this on.",
                   "订单尚未发货，我为您转接人工客服修改。")
    return say(lang, " It has already shipped, so it can no longer be changed.", "订单已发货，无法再修改。")


def reply(ctx: ReplyContext, *, order_missing: bool) -> str:
    o, lang = ctx.order, ctx.lang
    if order_missing:
        return not_found(str(ctx.slots.get("order_id", "")), lang)
    if not o:
        return ask_id(lang)
    text = state(o, lang)
    if ctx.intent in (Intent.CHANGE_ORDER, Intent.CHANGE_ADDRESS):
        text += change(o, lang)
    if ctx.policy and ctx.intent == Intent.CHANGE_ADDRESS:
        text += " " + snippet(ctx.policy, ADDRESS_POLICY_CHARS)
    return text
