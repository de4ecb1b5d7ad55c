"""How the shopper feels, from their words (EN + ZH): frustration, urgency, praise.

A small lexicon, not a model: the cues are few and stable ("worst", "太差了", "asap", "急"), the
decision they drive is coarse (apologise and offer a person; do not read praise as a request for
one), and it must work when the intent service is down. Praise never counts as frustration, and a
negated cue ("not bad", "没问题") is no cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FRUSTRATED = re.compile(
    r"\b(angry|furious|terrible|awful|worst|ridiculous|unacceptable|useless|scam|hate|disgusting|outrageous|"
    r"horrible|pathetic|never again|wtf|fed up|sick of|disappointed|disappointing|frustrat\w*|annoyed|joke|"
    r"nightmare|rip[- ]?off|shame|incompetent|still (?:hasn'?t|haven'?t|not|no)|no one (?:has )?(?:replied|answered)|"
    r"nobody (?:has )?(?:replied|answered)|(?:waited|waiting) (?:for )?(?:\d+|two|three|four|five|weeks?|ages)|"
    r"not (?:satisf|setisf|satisy)\w*|unsatisf\w*|dissatisf\w*|(?:bad|poor|worst|lousy) service|"
    r"(?:are|is)? ?not (?:respond|responding|replying|answering)|(?:don'?t|do not|never) deliver\w* (?:on|in) time)\b"
    r"|!!|[?？][!！]|[!！][?？]|[?？]{3,}|太差|差劲|垃圾|气死|骗子|投诉|恶心|愤怒|无语|失望|坑人|什么破|烂|受够|搞什么|离谱|过分|忍无可忍",
    re.IGNORECASE)
_URGENT = re.compile(
    r"\b(urgent\w*|asap|as soon as possible|right now|immediately|emergency|today|tonight|tomorrow|hurry|quickly)\b"
    r"|急|马上|立刻|尽快|赶紧|今天|明天",
    re.IGNORECASE)
_PRAISE = re.compile(
    r"\b(great|excellent|amazing|awesome|fantastic|wonderful|perfect|brilliant|love it|loved it|"
    r"good job|well done|so helpful|very helpful|really helpful|helpful|super fast|fast delivery|"
    r"great service|thank you so much|thanks a lot|much appreciated|appreciate it)\b"
    r"|太棒|真棒|很棒|好评|满意|给力|点赞|赞|谢谢你们|服务很好|服务真好|很好用|辛苦了",
    re.IGNORECASE)
_NEGATED = re.compile(r"\b(not|never|no|isn'?t|wasn'?t|don'?t|didn'?t)\s+(?:so\s+|very\s+|that\s+)?$|[不没]$",
                      re.IGNORECASE)


_WORD = re.compile(r"[^\W\d_]")  # a letter of any script (Han included)


@dataclass(frozen=True)
class Sentiment:
    frustrated: bool = False
    urgent: bool = False
    praise: bool = False

    @property
    def label(self) -> str:
        """One word for the evidence and the reply: frustrated | urgent | praise | neutral."""
        if self.frustrated:
            return "frustrated"
        if self.urgent:
            return "urgent"
        return "praise" if self.praise else "neutral"


def _hits(rx: re.Pattern[str], text: str) -> bool:
    """A cue that is not negated just before it ("not great", "不满意")."""
    return any(not _NEGATED.search(text[:m.start()]) for m in rx.finditer(text))


def read(text: str) -> Sentiment:
    if not _WORD.search(text):
        return Sentiment()  # "??" alone asks what to do, it does not vent (understand.vague asks back)
    frustrated = _hits(_FRUSTRATED, text) or _negated_praise(text)
    praise = not frustrated and _hits(_PRAISE, text)
    return Sentiment(frustrated=frustrated, urgent=_hits(_URGENT, text), praise=praise)


def _negated_praise(text: str) -> bool:
    """"not great", "不满意": praise words turned into a complaint."""
    return any(_NEGATED.search(text[:m.start()]) for m in _PRAISE.finditer(text))
