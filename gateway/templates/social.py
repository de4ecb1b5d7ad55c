"""Replies that state no shop fact: greetings, thanks, handoff, apologies, what the bot can do."""

from __future__ import annotations

from gateway.templates.words import say
from kefu.vocab import Intent

CAN_DO_EN = "I can help you track orders, find products, and answer questions about shipping, returns and payment."
CAN_DO_ZH = "我可以帮您查询订单、寻找商品，或解答配送、退货和付款问题。"


def handoff(lang: str) -> str:
    return say(lang, "I'm connecting you with a human agent now — please stay here, they will reply in this chat.",
               "好的，我正在为您转接人工客服，请稍候，客服会在这里回复您。")


def small_talk(intent: str, lang: str) -> str | None:
    if intent == Intent.GREETING:
        return say(lang, "Hi! I can help you track an order, find products, or answer questions about "
                         "shipping, returns and payment.", "您好！" + CAN_DO_ZH)
    if intent == Intent.GOODBYE:
        return say(lang, "Thanks for visiting — goodbye!", "感谢光临，再见！")
    if intent == Intent.THANKS:
        return say(lang, "You're welcome! Anything else I can help with?", "不客气！还有什么可以帮您？")
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
