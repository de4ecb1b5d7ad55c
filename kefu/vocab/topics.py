"""What each help-content label asks, in the shop's own words: the knowledge-base question a
confident label stands for.

Real shoppers write "Can you deliver this item to yadgir, Karnataka" or "emi?": words that share
little with a help page, so a look-up on their text alone often finds nothing above the knowledge
base's threshold. When the intent model is sure of the label, the turn asks the knowledge base
this question instead (`gateway.turn.act`); the knowledge base's own threshold still decides
whether anything answers it, so a label the shop's help content does not cover (gift wrap, a
warranty) still gets the honest "not sure — a person?".
"""

from __future__ import annotations

import re

from kefu.vocab.intents import Intent

_I = Intent

# label → (English question, Chinese question)
TOPIC_QUESTIONS: dict[str, tuple[str, str]] = {
    _I.SHIPPING_INFO: ("How much does shipping cost and how long does it take?", "运费多少？配送需要几天？"),
    _I.DELIVERY_TIME: ("How long does standard shipping take?", "标准配送需要几个工作日？"),
    _I.SAME_DAY_DELIVERY: ("Do orders leave the warehouse the same day? How fast is express shipping?",
                           "当天发货吗？加急配送需要几天？"),
    _I.INTERNATIONAL_SHIPPING: ("Do you ship internationally? How long does it take and who pays import duties?",
                                "可以寄到国外吗？国际配送要多久，关税谁付？"),
    _I.DELIVERY_AREA: ("Where do you ship? Do you ship internationally?", "配送范围是哪里？可以寄到国外吗？"),
    _I.FREE_SHIPPING: ("Is shipping free? Free shipping on orders over how much?", "包邮吗？满多少免运费？"),
    _I.CARRIER_INFO: ("Which carriers do you ship with?", "用哪家快递发货？"),
    _I.RETURN_POLICY: ("Can I return an item within 30 days of delivery?", "收货后30天内可以退货吗？"),
    _I.REFUND_POLICY: ("How long does a refund take to arrive?", "退款多久到账？"),
    _I.WARRANTY: ("Do products come with a warranty?", "商品有保修吗？"),
    _I.PRICE_MATCH: ("Do you match a lower price or refund a price drop?", "降价了可以退差价吗？"),
    _I.CONTACT_INFO: ("How can I contact customer support by email, and when are agents available?",
                      "怎么联系客服？客服邮箱和工作时间是什么？"),
    _I.STORE_LOCATIONS: ("Do you have physical stores, or are you online only? When can I reach you?",
                         "有实体店吗？还是只在网上？什么时候可以联系客服？"),
    _I.GIFT_WRAP: ("Do you offer gift wrapping?", "可以包装成礼物吗？"),
    _I.PAYMENT_METHODS: ("Which payment methods do you accept?", "支持哪些付款方式？"),
    _I.INSTALLMENT_PAYMENT: ("Can I pay in instalments?", "可以分期付款吗？"),
    _I.GIFT_CARD: ("Do you sell gift cards?", "有礼品卡吗？"),
    _I.PAYMENT_ISSUE: ("My payment failed, what should I do?", "付款失败了怎么办？"),
    _I.DOUBLE_CHARGE: ("I was charged twice for one order.", "一个订单被扣了两次款。"),
    _I.COUPON: ("How do I use a coupon code? Can codes be combined?", "优惠券怎么用？可以叠加吗？"),
    _I.DISCOUNT_REQUEST: ("Are there any discounts or offers, like a newsletter discount?",
                          "有什么优惠吗？订阅邮件有折扣吗？"),
    _I.PLACE_ORDER: ("Can I order as a guest or do I need an account?", "可以不注册直接下单吗？"),
    _I.ACCOUNT_HELP: ("Can I order as a guest or do I need an account?", "需要注册账户才能下单吗？"),
    _I.PASSWORD_RESET: ("How do I reset my password?", "忘记密码怎么重置？"),
    _I.LOGIN_PROBLEM: ("I can't sign in: how do I reset my password?", "登录不上怎么办？怎么重置密码？"),
    _I.UPDATE_ACCOUNT: ("How do I change the email or phone number on my account?", "怎么修改账户邮箱或手机号？"),
    _I.DELETE_ACCOUNT: ("How do I delete my account?", "怎么注销账户？"),
    _I.NEWSLETTER_SUBSCRIPTION: ("How do I change my newsletter preferences?", "怎么修改邮件订阅设置？"),
    _I.RETURN_REQUEST: ("How do I start a return?", "怎么申请退货？"),
    _I.EXCHANGE_REQUEST: ("How do I start a return?", "怎么申请退货？"),
    _I.CANCEL_ORDER: ("How do I cancel an order?", "怎么取消订单？"),
    _I.CHANGE_ORDER: ("Can I change an order after placing it?", "下单后还能修改订单吗？"),
    _I.CHANGE_ADDRESS: ("Can I change the shipping address of an order?", "下单后还能修改收货地址吗？"),
}


def topic_question(label: str, lang: str) -> str | None:
    """The knowledge-base question a label stands for, in the shopper's language (None: none)."""
    pair = TOPIC_QUESTIONS.get(label)
    if pair is None:
        return None
    return pair[1] if lang == "zh" else pair[0]


# Words that mark a message as about shopping here (orders, delivery, returns, money, products): the
# public training sets' general questions that use them are not taught as out of scope
# (kefu.data.public_intents), and an unsure out-of-scope reading that uses them gets a clarifying
# question instead of "I can't help with that" (gateway.turn.understand.vague).
ZH_SHOP_WORDS: tuple[str, ...] = (
    "订单", "下单", "快递", "物流", "退货", "退款", "退换", "发货", "包邮", "运费", "优惠券", "优惠", "折扣",
    "客服", "商品", "购买", "购物", "买", "价格", "多少钱", "尺码", "尺寸", "付款", "支付", "网购", "淘宝", "店铺",
)
EN_SHOP_WORDS = re.compile(
    r"\b(orders?|ordered|deliver(y|ed|ies)?|ship(ping|ped|ment)?|refunds?|returns?|returned|exchange|buy|bought"
    r"|purchased?|prices?|costs?|coupons?|discounts?|pay|paid|payments?|sizes?|stores?|shop(s|ping)?|sell|sells"
    r"|sold|cheap|warranty|money back|customer service|package|parcel|tracking|account|password|log ?in)\b",
    re.IGNORECASE)
