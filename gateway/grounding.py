"""The grounding check: a generated reply may state only facts present in the turn's context.

Checked: order ids, product ids, tracking-like codes, prices and other numbers, dates, the
reply's language, and echoes of the system prompt (prompt-injection leaks). Anything else a
model adds is style; anything here that is not in the context makes the gateway answer with
the grounded template instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from prometheus_client import Counter

from kefu.contracts import ReplyContext
from kefu.prompting import SYSTEM_EN, SYSTEM_ZH, render_facts

GROUNDING = Counter("kefu_gateway_grounding_total", "generated replies checked", ["outcome"])

_ID_LIKE = re.compile(r"\b[A-Z]{1,4}-?\d{4,}\b", re.IGNORECASE)
_CODE_LIKE = re.compile(r"\b(?=[A-Z0-9]*\d[A-Z0-9]*\d[A-Z0-9]*\d[A-Z0-9]*\d)[A-Z0-9]{8,}\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])\d+(?:\.\d+)?")
_ISO_DATE = re.compile(r"\b(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH_DATE = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})\b", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MONEY_SIGN = re.compile(r"[$¥€£]\s*\d|\d\s*(?:元|usd|cny|dollars?)", re.IGNORECASE)


@dataclass
class Verdict:
    ok: bool
    reasons: list[str] = field(default_factory=list)


def context_text(ctx: ReplyContext) -> str:
    """Every string the reply may draw on (facts as rendered, plus the raw structured facts)."""
    parts = [render_facts(ctx), ctx.user_text]
    if ctx.order:
        parts.append(json.dumps(ctx.order, ensure_ascii=False, default=str))
    for p in ctx.products:
        parts.append(json.dumps(p, ensure_ascii=False, default=str))
    if ctx.policy:
        parts.append(ctx.policy)
    if ctx.note:
        parts.append(ctx.note)
    for t in ctx.history:
        parts.extend([t.user, t.bot])
    return "\n".join(parts)


def _numbers(text: str) -> set[float]:
    out: set[float] = set()
    for m in _NUMBER.finditer(text):
        try:
            out.add(round(float(m.group(0).replace(",", "")), 2))
        except ValueError:
            pass
    return out


def _dates(text: str) -> set[tuple[int, int]]:
    """(month, day) pairs of every date written in the text."""
    out: set[tuple[int, int]] = set()
    for m in _ISO_DATE.finditer(text):
        out.add((int(m.group(2)), int(m.group(3))))
    for m in _MONTH_DATE.finditer(text):
        month = [x[:3] for x in _MONTHS].index(m.group(1).lower()[:3]) + 1
        out.add((month, int(m.group(2))))
    return out


def _system_echo(reply: str) -> bool:
    low = " ".join(reply.lower().split())
    if "facts:" in low or "system prompt" in low:
        return True
    words = SYSTEM_EN.lower().split()
    for i in range(len(words) - 5):
        if " ".join(words[i:i + 6]) in low:
            return True
    compact = "".join(reply.split())
    for i in range(0, len(SYSTEM_ZH) - 10):
        if SYSTEM_ZH[i:i + 10] in compact:
            return True
    return False


def check(reply: str, ctx: ReplyContext, *, partial: bool = False) -> Verdict:
    """`partial=True` checks a streamed prefix (language and length are judged at the end)."""
    reasons: list[str] = []
    text = reply.strip()
    if not partial:
        if not text:
            reasons.append("empty reply")
        elif len(text) > 1200:
            reasons.append("reply too long")
        elif ctx.lang == "zh" and not _CJK.search(text):
            reasons.append("reply not in Chinese")
        elif ctx.lang == "en" and len(_CJK.findall(text)) > len(text) // 4:
            reasons.append("reply not in English")
    ctx_text = context_text(ctx)
    ctx_low = ctx_text.lower()
    for m in _ID_LIKE.finditer(text):
        if m.group(0).lower().replace("-", "") not in ctx_low.replace("-", ""):
            reasons.append(f"unknown id {m.group(0)}")
    for m in _CODE_LIKE.finditer(text):
        if m.group(0).lower() not in ctx_low:
            reasons.append(f"unknown code {m.group(0)}")
    allowed = _numbers(ctx_text)
    money = bool(_MONEY_SIGN.search(text))
    for value in _numbers(text):
        small = value.is_integer() and value <= 10 and not money
        if small or value in allowed:
            continue
        reasons.append(f"unknown number {value:g}")
    ctx_dates = _dates(ctx_text)
    for d in _dates(text):
        if d not in ctx_dates:
            reasons.append(f"unknown date {d[0]:02d}-{d[1]:02d}")
    if _system_echo(text):
        reasons.append("echoes the system prompt")
    return Verdict(not reasons, reasons)
