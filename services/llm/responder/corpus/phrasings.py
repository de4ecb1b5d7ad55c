"""What shoppers say and how the careful agent answers, per intent and language.

`USER` holds the shoppers' questions (mixed with the bundled intents.csv phrasings when kefu/data
is present); `REPLIES` the agent's wordings, each a tuple of options the sampler chooses from, or
one string said as is; `MARKERS` the phrases of which a reply must contain one to count as
answering (fact-free replies have no facts to check). `{o}` is an order id, `{s}` a status,
`{t}` a product title, `{m}` an amount; the reply builders fill them from the sample's facts.
"""

from __future__ import annotations

import csv
import random
from functools import lru_cache
from typing import Any

from kefu.prompting import product_title
from kefu.vocab import Intent, serves
from services.llm.responder.corpus.world import ORDER_IDS, PRODUCT_TYPES

_I = Intent

USER: dict[str, dict[str, tuple[str, ...]]] = {
    _I.GREETING: {
        "en": ("hi", "hello", "hey there", "good morning", "hi, anyone here?", "hello, I need some help"),
        "zh": ("你好", "您好", "在吗", "早上好", "你好，我想咨询一下"),
    },
    _I.GOODBYE: {
        "en": ("bye", "goodbye", "that's all, bye", "see you", "ok bye for now"),
        "zh": ("再见", "拜拜", "好的，再见", "没事了，再见"),
    },
    _I.THANKS: {
        "en": ("thanks", "thank you!", "thanks a lot", "great, thanks for the help", "cheers"),
        "zh": ("谢谢", "谢谢你", "非常感谢", "好的，谢谢帮忙"),
    },
    _I.ORDER_STATUS: {
        "en": (
            "where is my order {oid}?",
            "what's the status of order {oid}",
            "has {oid} shipped yet?",
            "where is my package",
            "can you check my order {oid}",
            "order status please",
        ),
        "zh": ("我的订单{oid}到哪了？", "查一下订单 {oid} 的状态", "{oid}发货了吗", "我的包裹到哪了", "帮我查下订单"),
    },
    _I.CANCEL_ORDER: {
        "en": (
            "I want to cancel order {oid}",
            "please cancel my order {oid}",
            "can I cancel my order?",
            "cancel {oid} please",
        ),
        "zh": ("我要取消订单{oid}", "请帮我取消订单 {oid}", "订单还能取消吗", "取消{oid}"),
    },
    _I.CHANGE_ORDER: {
        "en": (
            "can I change the size in order {oid}?",
            "I need to modify my order {oid}",
            "can I add an item to my order?",
            "change the color on {oid}",
        ),
        "zh": ("订单{oid}能改尺码吗", "我想修改订单 {oid}", "可以往订单里加商品吗", "{oid}能换颜色吗"),
    },
    _I.RETURN_REQUEST: {
        "en": (
            "I want to return order {oid}",
            "how do I return an item?",
            "can I send this back?",
            "return request for {oid}",
            "the shoes don't fit, can I return them",
        ),
        "zh": ("我想退货，订单{oid}", "怎么退货？", "这个能退吗", "订单 {oid} 申请退货", "鞋子不合适，可以退吗"),
    },
    _I.REFUND_STATUS: {
        "en": (
            "where is my refund for {oid}?",
            "has my refund been processed?",
            "refund status {oid}",
            "when do I get my money back",
        ),
        "zh": ("订单{oid}的退款到哪了", "我的退款处理了吗", "退款进度 {oid}", "钱什么时候退回来"),
    },
    _I.SHIPPING_INFO: {
        "en": (
            "how long does shipping take?",
            "what's the tracking number for {oid}?",
            "which carrier ships {oid}?",
            "do you ship for free?",
            "when will {oid} arrive",
        ),
        "zh": ("发货要多久？", "订单{oid}的快递单号是多少", "{oid}用的哪家快递", "包邮吗", "{oid}什么时候到"),
    },
    _I.CHANGE_ADDRESS: {
        "en": (
            "I need to change the shipping address for {oid}",
            "can I update my delivery address?",
            "wrong address on order {oid}",
        ),
        "zh": ("订单{oid}要改收货地址", "可以修改收货地址吗", "订单 {oid} 地址填错了"),
    },
    _I.PAYMENT_ISSUE: {
        "en": (
            "my payment failed",
            "I was charged twice",
            "card declined at checkout",
            "what payment methods do you accept?",
        ),
        "zh": ("付款失败了", "我被扣了两次钱", "结账时银行卡被拒", "支持哪些付款方式？"),
    },
    _I.PRODUCT_SEARCH: {
        "en": ("I'm looking for {type}", "do you sell {type}?", "show me some {type}", "search {type} under 100"),
        "zh": ("我想买{type}", "有{type}吗", "推荐几款{type}", "找一下100元以内的{type}"),
    },
    _I.PRODUCT_QUESTION: {
        "en": (
            "tell me more about the {title}",
            "what are the specs of the {title}?",
            "is the {title} any good?",
            "how long does the battery last?",
        ),
        "zh": ("介绍一下{title}", "{title}的参数是什么", "{title}怎么样", "这个续航多久"),
    },
    _I.RECOMMENDATION: {
        "en": (
            "what {type} do you recommend?",
            "any good {type} for a gift?",
            "which {type} is best?",
            "recommend something please",
        ),
        "zh": ("推荐一款{type}", "送礼买什么{type}好", "哪款{type}最好", "有什么推荐的吗"),
    },
    _I.PRICE_QUESTION: {
        "en": ("how much is the {title}?", "what does the {title} cost?", "price of {title}", "how much is it?"),
        "zh": ("{title}多少钱", "{title}的价格是多少", "这个多少钱", "{title}什么价"),
    },
    _I.STOCK_AVAILABILITY: {
        "en": (
            "is the {title} in stock?",
            "do you have {title} available?",
            "when will the {title} be back in stock?",
            "is it available?",
        ),
        "zh": ("{title}有货吗", "{title}还有库存吗", "这个有货吗", "{title}什么时候补货"),
    },
    _I.COUPON: {
        "en": (
            "do you have any coupons?",
            "my coupon code doesn't work",
            "can I use two coupons?",
            "is there a discount for new customers?",
        ),
        "zh": ("有优惠券吗", "优惠码用不了", "可以同时用两张优惠券吗", "新用户有折扣吗"),
    },
    _I.COMPLAINT: {
        "en": (
            "this is unacceptable, my order {oid} arrived broken",
            "terrible service, I'm very unhappy",
            "the item in {oid} is damaged",
            "I've waited two weeks, this is ridiculous",
        ),
        "zh": (
            "太差了，订单{oid}收到的东西是坏的",
            "服务太差了，我很不满意",
            "订单 {oid} 的商品有破损",
            "等了两周还没到，太离谱了",
        ),
    },
    _I.HUMAN_AGENT: {
        "en": (
            "I want to talk to a human",
            "let me speak to an agent",
            "real person please",
            "transfer me to customer service",
        ),
        "zh": ("转人工", "我要找人工客服", "让真人来回答", "人工服务"),
    },
    _I.ACCOUNT_HELP: {
        "en": ("I forgot my password", "how do I change my email?", "I can't log in", "how do I delete my account?"),
        "zh": ("忘记密码了", "怎么修改邮箱", "登录不上", "怎么注销账号"),
    },
    _I.OUT_OF_SCOPE: {
        "en": (
            "what's the weather tomorrow?",
            "tell me a joke",
            "who won the game last night?",
            "can you write my homework?",
            "what is the capital of France?",
        ),
        "zh": ("明天天气怎么样", "讲个笑话", "昨晚比赛谁赢了", "帮我写作业", "法国首都是哪里"),
    },
}

# An earlier exchange some samples carry in their history.
SMALLTALK: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("hi", "Hello! How can I help you today?"),
        ("hello", "Hi! How can I help?"),
        ("thanks", "You're welcome, happy to help."),
    ),
    "zh": (("你好", "您好！请问有什么可以帮您？"), ("在吗", "在的，请问有什么可以帮您？"), ("谢谢", "不客气！")),
}
# How a copy drill asks for one FACTS line.
DRILL_ASK: dict[str, tuple[str, ...]] = {
    "en": ("Repeat the {what} line exactly.", "Copy the {what} facts.", "What does the {what} line say?"),
    "zh": ("请原样复述{what}这一行。", "复制{what}的信息。", "{what}那一行写的是什么？"),
}

REPLIES: dict[str, dict[str, str | tuple[str, ...]]] = {
    # social and fact-free intents
    _I.GREETING: {
        "en": (
            "Hello! How can I help you today?",
            "Hi there! I can help with orders, shipping, returns and products. What do you need?",
            "Hello, welcome! What can I help you with?",
            "Hi! How can I help?",
        ),
        "zh": (
            "您好！请问有什么可以帮您？",
            "您好，我是客服助手，可以帮您查询订单、物流、退货和商品，请问需要什么帮助？",
            "你好！很高兴为您服务，请问有什么可以帮您？",
        ),
    },
    _I.GOODBYE: {
        "en": ("Goodbye, and thanks for shopping with us!", "Bye! Have a great day.", "Thanks for chatting. Goodbye!"),
        "zh": ("再见，祝您购物愉快！", "感谢您的咨询，再见！", "好的，再见，有问题随时找我。"),
    },
    _I.THANKS: {
        "en": (
            "You're welcome! Is there anything else I can help with?",
            "You're welcome, happy to help.",
            "Glad I could help! Anything else?",
        ),
        "zh": ("不客气！还有其他可以帮您的吗？", "不用谢，很高兴能帮到您。", "不客气，祝您购物愉快！"),
    },
    _I.HUMAN_AGENT: {
        "en": (
            "Sure, I'm connecting you with a human agent now. Please wait a moment.",
            "No problem, a human agent will join this chat shortly.",
        ),
        "zh": ("好的，正在为您转接人工客服，请稍候。", "没问题，人工客服马上为您服务。"),
    },
    _I.OUT_OF_SCOPE: {
        "en": (
            "Sorry, I can only help with orders, shipping, returns and our products.",
            "I can't help with that, but I'm happy to check an order or find a product for you.",
        ),
        "zh": (
            "抱歉，我只能帮您处理订单、物流、退货和商品相关的问题。",
            "这个问题我回答不了，我可以帮您查询订单或商品。",
        ),
    },
    _I.COMPLAINT: {
        "en": (
            "I'm very sorry about this experience. I can connect you with a human agent to sort it out.",
            "Sorry to hear that. Please share your order number and I'll look into it.",
        ),
        "zh": (
            "非常抱歉给您带来不好的体验，我可以为您转接人工客服处理。",
            "很抱歉让您失望了，请告诉我订单号，我来帮您处理。",
        ),
    },
    "complaint.order": {
        "en": (
            "I'm really sorry about order {o}. I've noted the problem, and a human agent can follow up if you like.",
            "Sorry for the trouble with order {o}. We will sort it out; I can also connect you to an agent.",
        ),
        "zh": (
            "非常抱歉订单 {o} 给您带来不好的体验，我已记录问题，需要的话可以为您转人工客服。",
            "很抱歉！订单 {o} 的问题我们会尽快处理，也可以为您转接人工客服。",
        ),
    },
    # an order that is not there
    "ask_order": {
        "en": (
            "Could you share your order number (it starts with KF)? Then I can check it for you.",
            "Please send me your order number and I'll take a look.",
            "Sure, which order is it? Please give me the order number.",
        ),
        "zh": (
            "请提供您的订单号（以 KF 开头），我来帮您查询。",
            "麻烦发一下订单号，我马上帮您处理。",
            "为了帮您处理，请告诉我订单号。",
        ),
    },
    "not_found": {
        "en": (
            "Sorry, I couldn't find an order with the number {o}. Could you double-check it?",
            "I can't find order {o} in our system. Please check the number and try again.",
        ),
        "zh": ("抱歉，没有找到订单 {o}，请核对订单号后再试。", "系统中查不到订单 {o}，请确认订单号是否正确。"),
    },
    # order status: the head states the status, the tail what it means
    "status": {
        "en": ("Your order {o} is {s}.", "Order {o} is currently {s}.", "I checked order {o}: it is {s}."),
        "zh": ("您的订单 {o} 当前状态：{s}。", "订单 {o} 目前{s}。", "查到了，订单 {o} 的状态是{s}。"),
    },
    "status.shipped": {
        "en": (
            " It is with {c}, tracking number {t}, and should arrive by {e}.",
            " {c} is delivering it (tracking {t}); expected delivery is {e}.",
        ),
        "zh": ("由 {c} 承运，物流单号 {t}，预计 {e} 送达。", "快递 {c}，单号 {t}，预计 {e} 到达。"),
    },
    "status.delivered": {
        "en": (" It was delivered on {d}.", " Delivery was completed on {d}."),
        "zh": ("已于 {d} 签收。", "签收日期为 {d}。"),
    },
    "status.pending": {
        "en": " We are still waiting for payment; it will ship soon after payment.",
        "zh": "订单还在等待付款，付款后会尽快为您安排发货。",
    },
    "status.paid": {
        "en": " We are preparing it now and will send the tracking number once it ships.",
        "zh": "我们正在为您备货，发货后会通知您物流单号。",
    },
    "status.refunded": {"en": (" The refund is {x}.",), "zh": ("退款状态：{x}。",)},
    "status.cancelled": {"en": " It has been cancelled.", "zh": "该订单已取消。"},
    # cancel / change / change_address, allowed before the order ships
    "gated.allowed": {
        "en": ("Order {o} has not shipped yet, so it can be {v}{x}. Shall I go ahead?",
               "Good news: order {o} can still be {v}{x}."),
        "zh": ("订单 {o} 尚未发货，可以{v}{x}。请确认是否继续？", "好的，订单 {o} 还没发货，可以{v}{x}。"),
    },
    "gated.refund": {
        "en": "; the {m} will go back to your original payment method",
        "zh": "，退款 {m} 将原路退回",
    },
    "gated.refused": {
        "en": ("Sorry, order {o} cannot be {v} because {why}.", "I'm afraid {why}, so order {o} can no longer be {v}."),
        "zh": ("抱歉，订单 {o} 无法{v}，原因：{why}。", "很抱歉，{why}，订单 {o} 已不能{v}。"),
    },
    # refunds and shipping of one order
    "no_refund": {
        "en": ("There is no refund on order {o}; its status is {s}.",),
        "zh": ("订单 {o} 目前没有退款记录，订单状态：{s}。",),
    },
    "refund": {
        "en": ("The refund of {m} for order {o} is {x}.", "Your refund for order {o} ({m}) is {x}."),
        "zh": ("订单 {o} 的退款{x}，金额 {m}。", "您订单 {o} 的退款（{m}）当前状态：{x}。"),
    },
    "not_shipped": {
        "en": "Order {o} has not shipped yet; you will get a tracking number once it does.",
        "zh": "订单 {o} 还在备货，尚未发货，发货后会给您物流单号。",
    },
    "tracking": {
        "en": (
            "Order {o} ships with {c}; the tracking number is {t} and it should arrive by {e}.",
            "Your package is with {c}, tracking number {t}, expected on {e}.",
        ),
        "zh": ("订单 {o} 由 {c} 配送，物流单号 {t}，预计 {e} 送达。", "您的包裹由 {c} 承运，单号 {t}，预计 {e} 到达。"),
    },
    # products
    "no_products": {
        "en": "Sorry, I couldn't find a matching product. Could you describe it another way?",
        "zh": "抱歉，没有找到符合的商品，可以换个关键词试试吗？",
    },
    "search": {
        "en": ("I found: {x}.", "Here is what we have: {x}.", "These might suit you: {x}."),
        "zh": ("为您找到：{x}。", "这些商品可能适合您：{x}。"),
    },
    "search.item": {"en": "{t} ({m})", "zh": "{t}（{m}）"},
    "question": {
        "en": ("The {t}: {d} It costs {m}.", "About the {t}: {d}"),
        "zh": ("{t}：{d}价格 {m}。", "关于 {t}：{d}"),
    },
    "recommend": {
        "en": ("I'd recommend the {a} at {m}; the {b} is another good choice.",
               "Our pick is the {a} ({m}). You might also like the {b}."),
        "zh": ("推荐 {a}，售价 {m}；{b} 也是不错的选择。", "我推荐 {a}（{m}），另外 {b} 也值得一看。"),
    },
    "price": {
        "en": ("The {t} costs {m}.", "The price of the {t} is {m}.", "{t}: {m}."),
        "zh": ("{t} 的价格是 {m}。", "{t} 售价 {m}。"),
    },
    "out_of_stock": {
        "en": ("Sorry, the {t} is out of stock right now.", "The {t} is currently out of stock."),
        "zh": ("抱歉，{t} 目前缺货。", "{t} 暂时缺货，补货后可以再来看看。"),
    },
    "in_stock": {
        "en": ("Yes, the {t} is in stock ({n} left).", "The {t} is available: {n} in stock."),
        "zh": ("{t} 有货，库存 {n} 件。", "有的，{t} 目前还有 {n} 件。"),
    },
}
MARKERS: dict[str, dict[str, tuple[str, ...]]] = {
    _I.GREETING: {"en": ("help",), "zh": ("帮您",)},
    _I.GOODBYE: {"en": ("bye", "Bye"), "zh": ("再见",)},
    _I.THANKS: {"en": ("welcome", "help"), "zh": ("不客气", "不用谢")},
    _I.HUMAN_AGENT: {"en": ("agent",), "zh": ("人工",)},
    _I.OUT_OF_SCOPE: {"en": ("only help", "can't help"), "zh": ("只能", "回答不了")},
    _I.COMPLAINT: {"en": ("sorry", "Sorry"), "zh": ("抱歉",)},
    "complaint.order": {"en": ("sorry", "Sorry"), "zh": ("抱歉",)},
    "ask_order": {"en": ("order number",), "zh": ("订单号",)},
    "not_found": {"en": ("find",), "zh": ("查不到", "没有找到")},
    "no_refund": {"en": ("no refund",), "zh": ("没有退款",)},
    "not_shipped": {"en": ("not shipped",), "zh": ("尚未发货",)},
    "no_products": {"en": ("couldn't find",), "zh": ("没有找到",)},
    "out_of_stock": {"en": ("out of stock",), "zh": ("缺货",)},
}
# The note the gateway adds to the FACTS when it found nothing.
NOTES: dict[str, dict[str, str]] = {
    "not_found": {"en": "order not found", "zh": "未找到该订单"},
    "no_products": {"en": "no matching products", "zh": "没有找到匹配的商品"},
}

# cancel / change / change_address: (what the reply says becomes of the order, the note when
# allowed, the note when refused with {why}).
GATED: dict[str, dict[str, tuple[str, str, str]]] = {
    "en": {
        "cancel": ("cancelled", "cancellation allowed: the order has not shipped yet", "cannot cancel: {why}"),
        "change": ("changed", "change allowed: the order has not shipped yet", "cannot change: {why}"),
        "address": ("updated with a new address", "change allowed: the order has not shipped yet",
                    "cannot change the address: {why}"),
    },
    "zh": {
        "cancel": ("取消", "可以取消：订单尚未发货", "无法取消：{why}"),
        "change": ("修改", "可以修改：订单尚未发货", "无法修改：{why}"),
        "address": ("修改收货地址", "可以修改收货地址：订单尚未发货", "无法修改收货地址：{why}"),
    },
}
# Markers of an allowed cancel / change ({v}: the GATED verb).
GATED_MARKERS: dict[str, tuple[str, ...]] = {"en": ("can be {v}", "can still be {v}"), "zh": ("可以{v}",)}
# Why an order that has left the warehouse cannot be cancelled or changed.
REFUSAL_REASON: dict[str, dict[str, str]] = {
    "en": {
        "shipped": "the order has already shipped",
        "delivered": "the order was already delivered",
        "cancelled": "the order is already cancelled",
        "refunded": "the order was already refunded",
    },
    "zh": {"shipped": "订单已发货", "delivered": "订单已签收", "cancelled": "订单已取消", "refunded": "订单已退款"},
}

# Policy replies: the lead when the shopper named an order, else one of the general openings.
POLICY_LEAD: dict[str, dict[str, str]] = {
    _I.RETURN_REQUEST: {"en": "You can return items from order {o}.", "zh": "订单 {o} 可以申请退货。"},
    _I.REFUND_STATUS: {"en": "About your refund for order {o}:", "zh": "关于订单 {o} 的退款："},
    _I.SHIPPING_INFO: {"en": "About shipping for order {o}:", "zh": "关于订单 {o} 的配送："},
    _I.PAYMENT_ISSUE: {"en": "Sorry about the payment trouble with order {o}.", "zh": "很抱歉订单 {o} 付款遇到问题。"},
    _I.COUPON: {"en": "For order {o}:", "zh": "订单 {o}："},
    _I.ACCOUNT_HELP: {"en": "", "zh": ""},
}
POLICY_OPENING: dict[str, dict[str, tuple[str, ...]]] = {
    _I.RETURN_REQUEST: {"en": ("Sure, here is our return policy:", "Of course. Our policy:"),
                        "zh": ("可以的，我们的退货政策是：", "好的，退货规则如下：")},
    _I.REFUND_STATUS: {"en": ("Here is how refunds work:",), "zh": ("退款规则如下：",)},
    _I.SHIPPING_INFO: {"en": ("Here is our shipping policy:", "About shipping:"), "zh": ("配送说明：", "关于配送：")},
    _I.PAYMENT_ISSUE: {"en": ("Sorry about the payment trouble.", "Here is what our payment policy says:"),
                       "zh": ("很抱歉给您带来不便。", "付款说明：")},
    _I.COUPON: {"en": ("About coupons:", "Here is our coupon policy:"), "zh": ("关于优惠券：", "优惠券规则：")},
    _I.ACCOUNT_HELP: {"en": ("Here is how to do that:", "No problem."), "zh": ("您可以这样操作：", "没问题。")},
}


def say(r: random.Random, key: str, lang: str, **facts: Any) -> str:
    """One wording of `REPLIES[key]` in `lang` with the facts filled in (a fixed string draws nothing)."""
    options = REPLIES[key][lang]
    return (options if isinstance(options, str) else r.choice(options)).format(**facts)


def markers(key: str, lang: str) -> list[str]:
    return list(MARKERS.get(key, {}).get(lang, ()))


@lru_cache(maxsize=1)
def real_user_texts() -> dict[tuple[str, str], list[str]]:
    """(flow, lang) -> the bundled intents.csv phrasings (empty without kefu/data); a finer label's
    phrasings count for the flow that serves it ("damaged_item" → return_request)."""
    out: dict[tuple[str, str], list[str]] = {}
    try:
        import kefu.data as kd

        with open(kd.intents_path(), encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("text"):
                    flow = serves(row.get("label", ""))
                    out.setdefault((flow, row.get("lang", "en")), []).append(row["text"])
    except (ImportError, OSError, AttributeError):
        pass
    return out


def _product_type(product: dict[str, Any], lang: str) -> str:
    """What kind of thing the product is, as the shopper would ask for it ("earbuds", "蓝牙耳机")."""
    ptype = next(
        (z if lang == "zh" else e.lower() for e, z, _c, _d in PRODUCT_TYPES if product["title"].endswith(e)), ""
    )
    return ptype or str(product.get("category_zh" if lang == "zh" else "category") or "")


def user_text(r: random.Random, intent: str, lang: str, oid: str | None, product: dict[str, Any] | None) -> str:
    """The shopper's message: a bundled phrasing (40 %) or one of `USER`, naming `oid` and `product`.

    Any order id in a bundled phrasing becomes `oid` (or goes, when the sample names none)."""
    real = real_user_texts().get((intent, lang), [])
    use_real = real and r.random() < 0.4
    pool = [t for t in USER[intent][lang] if oid or "{oid}" not in t]
    text = r.choice(real) if use_real else r.choice(pool)
    title = product_title(product, lang) if product else ("这个" if lang == "zh" else "it")
    ptype = _product_type(product, lang) if product else ""
    text = (
        text.replace("{oid}", oid or "")
        .replace("{title}", title)
        .replace("{type}", ptype or ("商品" if lang == "zh" else "products"))
    )
    return " ".join(ORDER_IDS.mask(text, oid or "").split())
