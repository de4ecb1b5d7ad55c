"""The grounding check: a generated reply may state only facts present in the turn's context.

Checked: order ids, product ids, tracking-like codes, prices and other numbers, dates, the
reply's language, echoes of the system prompt (prompt-injection leaks), and — on the whole
reply — whether it states the key facts the intent asks for (`answers.missing_facts`: a fluent
reply that answers nothing is as useless as a wrong one). Anything else a model adds is style;
a failure makes the gateway answer with the grounded template instead, counted per reason code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from prometheus_client import Counter

from gateway import answers
from kefu.contracts import ReplyContext
from kefu.prompting import SYSTEM_EN, SYSTEM_ZH, render_facts

GROUNDING = Counter("kefu_gateway_grounding_total", "generated replies checked", ["outcome"])

_ID_LIKE = re.compile(r"\b[A-Z]{1,4}-?\d{4,}\b", re.IGNORECASE)
_CODE_LIKE = re.compile(r"\b(?=[A-Z0-9]*\d[A-Z0-9]*\d[A-Z0-9]*\d[A-Z0-9]*\d)[A-Z0-9]{8,}\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH_DATE = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})\b", re.IGNORECASE)
# An unfilled slot of a delexicalised responder (e.g. "[order.tracking]") served without kefu's
# relexicaliser, say through vLLM: never show it to a shopper.
_PLACEHOLDER = re.compile(r"\[[a-z]+\d*\.[a-z0-9_]+\]", re.IGNORECASE)
_MONEY_SIGN = re.compile(r"[$¥€£]\s*\d|\d\s*(?:元|usd|cny|dollars?)", re.IGNORECASE)


@dataclass
class Verdict:
    ok: bool
    reasons: list[str] = field(default_factory=list)
    # one stable code per reason, for metrics: empty, too_long, language, unknown_id, unknown_code,
    # unknown_number, unknown_date, system_echo, unanswered
    codes: list[str] = field(default_factory=list)


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


Failure = tuple[str, str]  # (metric code, reason)


def _form(text: str, ctx: ReplyContext) -> list[Failure]:
    """Whole-reply form: not empty, not too long, in the shopper's language (first failure only)."""
    if not text:
        return [("empty", "empty reply")]
    if len(text) > 1200:
        return [("too_long", "reply too long")]
    if not answers.language_ok(text, ctx):
        return [("language", "reply not in Chinese" if ctx.lang == "zh" else "reply not in English")]
    return []


def _unknown_facts(text: str, ctx_text: str) -> list[Failure]:
    """Ids, codes, numbers and dates in the reply that the context does not contain."""
    out: list[Failure] = []
    ctx_low = ctx_text.lower()
    for m in _ID_LIKE.finditer(text):
        if m.group(0).lower().replace("-", "") not in ctx_low.replace("-", ""):
            out.append(("unknown_id", f"unknown id {m.group(0)}"))
    for m in _CODE_LIKE.finditer(text):
        if m.group(0).lower() not in ctx_low:
            out.append(("unknown_code", f"unknown code {m.group(0)}"))
    allowed = answers.numbers_in(ctx_text)
    money = bool(_MONEY_SIGN.search(text))
    for value in answers.numbers_in(text):
        small = value.is_integer() and value <= 10 and not money
        if not (small or value in allowed):
            out.append(("unknown_number", f"unknown number {value:g}"))
    ctx_dates = _dates(ctx_text)
    out += [("unknown_date", f"unknown date {d[0]:02d}-{d[1]:02d}") for d in _dates(text) if d not in ctx_dates]
    return out


def _leaks(text: str) -> list[Failure]:
    """What must never reach a shopper: the system prompt, unfilled responder placeholders."""
    out: list[Failure] = [("system_echo", "echoes the system prompt")] if _system_echo(text) else []
    out += [("placeholder", f"unfilled placeholder {m.group(0)}") for m in _PLACEHOLDER.finditer(text)]
    return out


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[-–—~到至]\s*(\d+(?:\.\d+)?)\s*)?"
                       r"(?:business\s+|working\s+)?(?:days?|weeks?|months?|hours?|minutes?|years?"
                       r"|个?工作日|天|周|个月|小时|分钟|年)", re.IGNORECASE)


def _stated(ctx: ReplyContext) -> str:
    """What a passage answer may draw numbers from: the passages, and the turn's own facts."""
    parts = [str(p.get("text") or "") for p in ctx.passages] + [ctx.user_text]
    if ctx.order:
        parts.append(json.dumps(ctx.order, ensure_ascii=False, default=str))
    parts += [json.dumps(p, ensure_ascii=False, default=str) for p in ctx.products]
    if ctx.shipping:
        parts.append(json.dumps(ctx.shipping, default=str))
    return "\n".join(parts)


def passage_facts(text: str, ctx: ReplyContext) -> list[Failure]:
    """A reply written from knowledge-base passages states every number, amount, date and
    duration as the passages (or the turn's order and product facts) do — small numbers too:
    "2 days" where the passage says "1–2 business days" is an invented promise."""
    if not ctx.passages:
        return []
    stated = _stated(ctx)
    allowed = answers.numbers_in(stated)
    out: list[Failure] = [("passage_number", f"number {v:g} not in the passages")
                          for v in sorted(answers.numbers_in(text) - allowed)]
    spans = {tuple(x for x in m.groups() if x) for m in _DURATION.finditer(stated)}
    for m in _DURATION.finditer(text):
        got = tuple(x for x in m.groups() if x)
        if got not in spans and (len(got) == 2 or any(got[0] in s for s in spans)):
            out.append(("passage_duration", f"duration {'–'.join(got)} not as the passages state it"))
    return out


def check(reply: str, ctx: ReplyContext, *, partial: bool = False) -> Verdict:
    """`partial=True` checks a streamed prefix (language, length and the answer are judged at the end)."""
    text = reply.strip()
    failures = [] if partial else _form(text, ctx)
    failures += _unknown_facts(text, context_text(ctx))
    failures += passage_facts(text, ctx)
    failures += _leaks(text)
    if not partial and text and not failures:
        missing = answers.missing_facts(text, ctx)
        if missing:
            failures.append(("unanswered", "does not answer the question: lacks " + ", ".join(missing)))
    codes = [code for code, _ in failures]
    reasons = [reason for _, reason in failures]
    return Verdict(not reasons, reasons, codes)
