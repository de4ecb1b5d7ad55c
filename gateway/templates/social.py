"""Replies that state no shop fact: greetings, thanks, handoff, apologies, what the bot can do."""

from __future__ import annotations

from gateway.templates.words import say
from kefu.vocab import ORDER_INTENTS, Intent

CAN_DO_EN = "I can help you track orders, find products, and answer questions about shipping, returns and payment."
CAN_DO_ZH = "我可以帮您查询订单、寻找商品，或解答配送、退货和付款问题。"


GOAL_EN = {"return_request": "the return", "cancel_order": "the cancellation", "change_address": "the address change",
           "change_order": "the order change", "order_status": "the order look-up", "refund_status": "the refund check",
           "human_agent": "that"}
GOAL_ZH = {"return_request": "退货", "cancel_order": "取消订单", "change_address": "修改地址",
           "change_order": "修改订单", "order_status": "查询订单", "refund_status": "查询退款", "human_agent": "转接"}


def handoff(lang: str, sorry: bool = False) -> str:
    if sorry:  # a frustrated shopper: the apology, what happens next, and what helps the person
        return say(lang, "I'm really sorry about this — it's not the experience we want you to have. I'm passing "
                         "this conversation to a person on our team now; they will reply right here. If it's about "
                         "an order, add the order number so they can start straight away.",
                   "非常抱歉给您带来这样的体验。我现在就为您转接人工客服，客服会在这里回复您；如果和订单有关，"
                   "请附上订单号，方便客服马上处理。")
    return say(lang, "I'm connecting you with a human agent now — please stay here, they will reply in this chat.",
               "好的，我正在为您转接人工客服，请稍候，客服会在这里回复您。")


def dropped(intent: str, lang: str) -> str:
    """"never mind": the pending goal is dropped, nothing was changed."""
    return say(lang, f"OK, I've stopped {GOAL_EN.get(intent, 'that')} — nothing was changed. Anything else I can "
                     "help with?", f"好的，{GOAL_ZH.get(intent, '这件事')}先不办了，没有做任何更改。还有什么可以帮您？")


def sorry_offer(order_related: bool, lang: str) -> str:
    """A frustrated shopper: an apology, the concrete next step, and a person on offer — no policy quote."""
    step_en = ("Send me the order number and I'll check what happened right away." if order_related
               else CAN_DO_EN)
    step_zh = "请发给我订单号，我马上帮您查看。" if order_related else CAN_DO_ZH
    return say(lang, f"I'm really sorry about this. {step_en} Or, if you'd rather talk to a person from our team, "
                     "reply yes and I'll connect you.",
               f"非常抱歉给您带来不好的体验。{step_zh}如果您希望由人工客服处理，回复“是”我马上为您转接。")


def clarify(intent: str, lang: str) -> str:
    """One question that finds out which problem a topic-only message ("payment issue") means."""
    if intent == Intent.PAYMENT_ISSUE:
        return say(lang, "Sorry to hear that. What happened with the payment — did it fail, were you charged twice, "
                         "or is it something else?",
                   "给您添麻烦了。请问付款遇到了什么问题：是支付失败、被重复扣款，还是其他情况？")
    if intent in (Intent.COMPLAINT, Intent.RETURN_REQUEST, Intent.PRODUCT_QUESTION):
        return say(lang, "I'm sorry to hear that. What's wrong with the item — did it arrive damaged or faulty, or is "
                         "it not what you ordered? If you have the order number (like KF100001), send it too.",
                   "很抱歉听到这个情况。请问商品有什么问题：是收到时损坏、有质量问题，还是和订单不符？"
                   "方便的话请一并发送订单号（例如 KF100001）。")
    if intent in ORDER_INTENTS:  # (a return was asked about above)
        return say(lang, "Happy to help with your order. What's it about — where it is, changing or cancelling it, "
                         "or a return? The order number (like KF100001) helps me look it up.",
                   "好的，请问订单遇到了什么问题：是查询物流、修改或取消订单，还是退货？"
                   "请一并发送订单号（例如 KF100001）。")
    return say(lang, "Could you tell me a bit more about what you need? " + CAN_DO_EN,
               "请问具体是什么问题呢？" + CAN_DO_ZH)


def out_of_scope_offer(lang: str) -> str:
    """Asked again about something outside the shop: say so plainly, and offer a person."""
    return say(lang, "Sorry, that's outside what I can help with — I can only answer questions about this shop's "
                     "orders, products, shipping, returns and payment. If you'd like a person from our team, reply "
                     "yes and I'll connect you.",
               "抱歉，这个问题超出了我能帮忙的范围，我只能解答本店订单、商品、配送、退货和付款相关的问题。"
               "如果需要人工客服，回复“是”我马上为您转接。")


def sorry(lang: str) -> str:
    return say(lang, "I'm sorry about the trouble. ", "给您添麻烦了，非常抱歉。")


def small_talk(intent: str, lang: str) -> str | None:
    if intent == Intent.GREETING:
        return say(lang, "Hi! I can help you track an order, find products, or answer questions about "
                         "shipping, returns and payment.", "您好！" + CAN_DO_ZH)
    if intent == Intent.GOODBYE:
        return say(lang, "Thanks for visiting — goodbye!", "感谢光临，再见！")
    if intent == Intent.THANKS:
        return say(lang, "You're welcome! Anything else I can help with?", "不客气！还有什么可以帮您？")
    if intent == Intent.CHIT_CHAT:
        return say(lang, "I'm this shop's virtual assistant, and I chat in English and Chinese. " + CAN_DO_EN
                   + " A person from our team can take over any time you like.",
                   "我是本店的智能客服助手，可以用中文和英文交流。" + CAN_DO_ZH + "需要的话也可以随时转人工。")
    if intent in (Intent.AFFIRM, Intent.DENY, Intent.INFORM):  # a yes/no or a detail with nothing pending
        return say(lang, "OK. What can I help you with? " + CAN_DO_EN, "好的。请问有什么可以帮您？" + CAN_DO_ZH)
    if intent == Intent.FEEDBACK:
        return say(lang, "Thank you for the feedback — I'll pass it on to our team. Is there anything I can help "
                         "you with now?", "感谢您的反馈，我会转达给我们的团队。现在有什么可以帮您的吗？")
    return None


def fallback(intent: str, lang: str) -> str:
    """No fact answers this turn: apologise, say what the bot can do, offer a person."""
    if intent == Intent.COMPLAINT:
        return say(lang, "I'm sorry about your experience. I can connect you with a human agent to sort it out.",
                   "非常抱歉给您带来不好的体验。我可以为您转接人工客服处理。")
    if intent == Intent.OUT_OF_SCOPE:
        return say(lang, "Sorry, I can't help with that. I can track orders, find products, and answer "
                         "questions about shipping, returns and payment.", "抱歉，这个问题我无法回答。" + CAN_DO_ZH)
    return say(lang, CAN_DO_EN, CAN_DO_ZH)
