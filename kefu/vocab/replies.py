"""Short answers to a question the bot asked: an explicit yes, or a no. Only a message that is
such an answer counts ("yes", "yes, cancel it", "确认", "是的"); "yes but change the address
instead" or "ok, and where is my other order?" are not a yes to the pending action."""

from __future__ import annotations

import re

_YES_EN = re.compile(
    r"^\s*(?:yes|yeah|yep|yup|y|sure|ok(?:ay)?|confirm(?:ed)?|correct|please do|go ahead|do it|absolutely|"
    r"of course|definitely)\b(?:[\s,.!]*(?:please|thanks|thank you|go ahead|do it|confirm(?:ed)?|that's right|"
    r"cancel it|cancel|return it|change it|start (?:it|the return)|proceed|sure))*[\s,.!]*$", re.I)
_YES_ZH = re.compile(r"^\s*(?:是的?|是啊|对的?|确认|确定|好的?|好啊|可以|行|嗯+|没问题|同意|麻烦了|取消吧|退吧|改吧)"
                     r"[，,。!！\s]*(?:确认|确定|取消吧|谢谢|麻烦了|好的|是的|可以)?[，,。!！\s]*$")
_NO_EN = re.compile(r"^\s*(?:no|nope|nah|n|don'?t|do not|cancel that|never ?mind|not now|stop|wait)\b", re.I)
_NO_ZH = re.compile(r"^\s*(?:不|不要|不用|别|算了|先不|暂时不|等等|取消这个操作)")
MAX_CHARS = 40
# "ok, thanks" / "好的，谢谢": a yes in form, but after an *offer* (a person?) it closes the topic.
_THANKS_CLOSE = re.compile(r"^\s*(?:ok(?:ay)?|sure|fine|alright|好的?|好吧|行|嗯+|知道了|明白了?)?[\s,，.。!！]*"
                           r"(?:thanks?|thank you|thx|ty|谢谢(?:你|您)?|多谢|感谢)[\s,，.。!！~]*$", re.I)


def yes_or_no(text: str) -> str | None:
    """'yes', 'no', or None when the message is not a short answer."""
    t = text.strip()
    if not t or len(t) > MAX_CHARS:
        return None
    if _NO_EN.search(t) or _NO_ZH.search(t):
        return "no"
    if _YES_EN.search(t) or _YES_ZH.search(t):
        return "yes"
    return None


def thanks_only(text: str) -> bool:
    """'ok, thanks', '好的，谢谢': an answer to an offer that thanks and declines it, not a yes."""
    return bool(_THANKS_CLOSE.search(text.strip()))
