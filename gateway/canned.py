"""Canned responses for agents (English and Chinese); shops edit this list."""

from __future__ import annotations

CANNED: list[dict[str, str]] = [
    {"id": "greet", "title": "Greeting", "en": "Hi, this is a member of the shop team. How can I help you today?",
     "zh": "您好，我是店铺客服，请问有什么可以帮您？"},
    {"id": "checking", "title": "Checking", "en": "Thanks for waiting — I'm checking this for you now.",
     "zh": "感谢您的耐心等待，我正在为您核实。"},
    {"id": "order_number", "title": "Ask order number",
     "en": "Could you share your order number (it starts with KF)?", "zh": "请提供您的订单号（以 KF 开头）。"},
    {"id": "apology", "title": "Apology", "en": "I'm sorry about the trouble. Let me sort this out for you.",
     "zh": "非常抱歉给您带来不便，我来帮您处理。"},
    {"id": "return_label", "title": "Return label",
     "en": "I've started your return; you'll receive a return label by email shortly.",
     "zh": "已为您发起退货，退货标签稍后会发送到您的邮箱。"},
    {"id": "close", "title": "Closing", "en": "Is there anything else I can help you with?",
     "zh": "请问还有其他可以帮您的吗？"},
]


def canned(lang: str | None = None) -> list[dict[str, str]]:
    langs = [lang] if lang in ("en", "zh") else ["en", "zh"]
    return [{"id": f"{c['id']}-{lg}", "title": c["title"], "text": c[lg], "lang": lg}
            for lg in langs for c in CANNED]
