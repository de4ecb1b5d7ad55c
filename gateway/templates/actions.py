"""Replies of an order conversation around its actions: asking for the proving factor, offering
an action for an explicit yes, its result as read back from the order system, why an action is
not possible, and "nothing changed" after a no."""

from __future__ import annotations

from typing import Any

from gateway.templates.orders import CANCEL_WHY_EN, CANCEL_WHY_ZH, state
from gateway.templates.words import money, say
from kefu.contracts import ReplyContext
from kefu.vocab import STATUS_EN, STATUS_ZH

FACTOR_EN = {"email": "the email address you used for this order", "phone": "the phone number on the order",
             "postcode": "the postcode of the delivery address"}
FACTOR_ZH = {"email": "下单时使用的邮箱地址", "phone": "订单上的手机号码", "postcode": "收货地址的邮编"}
YES_NO_EN = " Please reply yes or no."
YES_NO_ZH = "请回复“是”或“否”。"


def _items(items: list[dict[str, Any]], lang: str) -> str:
    names = [f"{i.get('title')}" + (f" ×{i['qty']}" if int(i.get("qty") or 1) > 1 else "") for i in items[:3]]
    more = len(items) - 3
    if more > 0:
        names.append(f"{more} more" if lang != "zh" else f"另外 {more} 件")
    return ("、" if lang == "zh" else ", ").join(names)


def verify(ctx: ReplyContext) -> str:
    oid, v, lang = ctx.found_order, ctx.verify, ctx.lang
    factor = str(v.get("factor") or "email")
    if v.get("locked"):
        return say(lang, f"I can't verify order {oid} in this chat after several attempts. A person from our team "
                         "can help you with it — shall I connect you?",
                   f"多次验证未通过，本次对话无法再验证订单 {oid}。需要我为您转接人工客服吗？")
    if v.get("failed"):
        return say(lang, f"That doesn't match the details on order {oid}. Please check and send "
                         f"{FACTOR_EN.get(factor, factor)}.",
                   f"您提供的信息与订单 {oid} 不符，请核对后发送{FACTOR_ZH.get(factor, factor)}。")
    return say(lang, f"I found order {oid}. To keep your order details private, please tell me "
                     f"{FACTOR_EN.get(factor, factor)}.",
               f"已找到订单 {oid}。为保护您的隐私，请告诉我{FACTOR_ZH.get(factor, factor)}。")


def _return_terms(o: dict[str, Any], offer: dict[str, Any], lang: str) -> str:
    fee = float(offer.get("fee") or 0.0)
    cur = o.get("currency", "USD")
    days = offer.get("window_days")
    inside_en = f" — inside our {days}-day return window" if days else ""
    inside_zh = f"，在 {days} 天退货期内" if days else ""
    when = say(lang, f"Order {o['id']} was delivered on {o.get('delivered_at')}{inside_en}, so it can be returned "
                     f"until {offer.get('deadline')}.", f"订单 {o['id']} 已于 {o.get('delivered_at')} 签收{inside_zh}，"
                                                        f"可在 {offer.get('deadline')} 前退货。")
    if fee == 0:
        why_en = {"faulty": "the item is faulty", "damaged": "the item arrived damaged",
                  "wrong_item": "it is not what you ordered"}.get(str(offer.get("reason")),
                                                                 "the item is faulty, damaged or not what you ordered")
        why_zh = {"faulty": "商品有质量问题", "damaged": "商品到货破损", "wrong_item": "商品发错"}.get(
            str(offer.get("reason")), "商品有质量问题、破损或发错")
        cost = say(lang, f" Because {why_en}, return shipping is free.", f"由于{why_zh}，退货运费由我们承担。")
    else:
        cost = say(lang, f" A return shipping fee of {money(fee, cur)} is deducted from the refund.",
                   f"退货运费 {money(fee, cur)} 将从退款中扣除。")
    return when + cost


def confirm(ctx: ReplyContext) -> str:
    o, offer, lang = ctx.order or {}, ctx.offer or {}, ctx.lang
    kind, oid = offer.get("kind"), offer.get("order_id")
    if kind == "cancel":
        refund = money(o.get("total"), o.get("currency", "USD"))
        extra_en = f", and the full {refund} will be refunded to your original payment method" if offer.get("refund") \
            else ""
        extra_zh = f"，全额 {refund} 将退回原支付方式" if offer.get("refund") else ""
        st = str(o.get("status") or "")
        return say(lang, f"Order {oid} ({_items(o.get('items') or [], lang)}) is {STATUS_EN.get(st, '')}. "
                         f"I can cancel it now{extra_en}. Shall I cancel it?{YES_NO_EN}",
                   f"订单 {oid}（{_items(o.get('items') or [], lang)}）当前{STATUS_ZH.get(st, '')}。"
                   f"我可以为您取消该订单{extra_zh}。确认取消吗？{YES_NO_ZH}")
    if kind == "address":
        return say(lang, f"I can change the shipping address of order {oid} to: {offer.get('address')}. "
                         f"Shall I make this change?{YES_NO_EN}",
                   f"我可以把订单 {oid} 的收货地址改为：{offer.get('address')}。确认修改吗？{YES_NO_ZH}")
    terms = _return_terms(o, offer, lang)
    items = _items(offer.get("items") or [], lang)
    if kind == "exchange":
        variant = ", ".join(f"{k} {v}" for k, v in (offer.get("variant") or {}).items())
        return say(lang, f"{terms} I can start an exchange of {items} for {variant}. Shall I go ahead?{YES_NO_EN}",
                   f"{terms}我可以为您申请把 {items} 换成 {variant}。确认申请换货吗？{YES_NO_ZH}")
    return say(lang, f"{terms} I can start a return of {items}. Shall I start the return?{YES_NO_EN}",
               f"{terms}我可以为您申请退货：{items}。确认申请退货吗？{YES_NO_ZH}")


def done(ctx: ReplyContext) -> str:
    """The confirmed action's result, stated from the order as read back afterwards."""
    a, o, lang = ctx.action or {}, ctx.order or {}, ctx.lang
    oid = o.get("id") or a.get("order_id")
    if not a.get("ok"):
        return refused(ctx, str(a.get("kind")), str(a.get("reason")))
    if a.get("kind") == "cancel":
        return say(lang, "Done. ", "已完成。") + state(o, lang)
    if a.get("kind") == "address":
        return say(lang, f"Done — order {oid} will ship to: {a.get('address')}.",
                   f"已完成，订单 {oid} 将寄往：{a.get('address')}。")
    what = say(lang, "an exchange", "换货") if a.get("kind") == "exchange" else say(lang, "a return", "退货")
    return say(lang, f"Done — {what} is open for order {oid} (reference {a.get('return_id')}). ",
               f"已为订单 {oid} 提交{what}申请（编号 {a.get('return_id')}）。") + state(o, lang)


def refused(ctx: ReplyContext, kind: str, why: str) -> str:
    o, lang = ctx.order or {}, ctx.lang
    oid = o.get("id")
    if kind == "cancel":
        if lang == "zh":
            return f"订单 {oid} 无法取消：{CANCEL_WHY_ZH.get(why, '当前状态为' + STATUS_ZH.get(why, why))}。"
        return f"Order {oid} can't be cancelled: {CANCEL_WHY_EN.get(why, 'its status is ' + why)}."
    if kind == "address":
        tn = f" with tracking number {o['tracking_number']}" if o.get("tracking_number") else ""
        return say(lang, f"Order {oid} is {STATUS_EN.get(why, why)}, so its address can no longer be changed. "
                         f"You can ask the carrier to redirect the parcel{tn}.",
                   f"订单 {oid} {STATUS_ZH.get(why, why)}，无法再修改地址，您可以凭物流单号联系承运商改派。")
    if why == "window_closed":
        return say(lang, f"Order {oid} was delivered on {o.get('delivered_at')}, which is outside the return window, "
                         "so it can no longer be returned.",
                   f"订单 {oid} 于 {o.get('delivered_at')} 签收，已超过退货期限，无法再退货。")
    if why == "not_shipped":
        return say(lang, f"Order {oid} hasn't shipped yet, so an agent can still change it — I'll pass this on.",
                   f"订单 {oid} 尚未发货，我为您转接人工客服修改。")
    return say(lang, f"Order {oid} is {STATUS_EN.get(why, why)}, so it can't be returned yet.",
               f"订单 {oid} 当前{STATUS_ZH.get(why, why)}，暂时无法退货。")


def declined(ctx: ReplyContext) -> str:
    oid = ctx.found_order or (ctx.order or {}).get("id") or ""
    return say(ctx.lang, f"OK — I haven't changed anything on order {oid}.", f"好的，订单 {oid} 没有做任何更改。")


def choose(ctx: ReplyContext) -> str:
    """A signed-in shopper with several orders: which one?"""
    lang = ctx.lang
    rows = [f"{o['id']} ({STATUS_ZH.get(o['status'], o['status']) if lang == 'zh' else STATUS_EN.get(o['status'])}, "
            f"{o.get('created_at')})" for o in ctx.customer_orders[:5]]
    return say(lang, "You have several orders: " + "; ".join(rows) + ". Which order do you mean?",
               "您有多个订单：" + "；".join(rows) + "。请问是哪个订单？")


def ask_address(ctx: ReplyContext) -> str:
    oid = (ctx.order or {}).get("id")
    return say(ctx.lang, f"What is the new shipping address for order {oid}?", f"请问订单 {oid} 的新收货地址是什么？")


def reply(ctx: ReplyContext) -> str | None:
    """The reply for an action turn, or None when the turn is a plain order answer."""
    if ctx.declined:
        return declined(ctx)
    if ctx.move == "verify" or ctx.verify.get("locked"):
        return verify(ctx)
    if ctx.action is not None:
        return done(ctx)
    if ctx.refusal and ctx.order:
        return refused(ctx, str((ctx.offer or {}).get("kind") or "return"), ctx.refusal)
    if ctx.move == "confirm":
        return confirm(ctx)
    if ctx.move == "ask" and ctx.order and ctx.intent == "change_address":
        return ask_address(ctx)
    if ctx.move == "ask" and ctx.customer_orders:
        return choose(ctx)
    return None
