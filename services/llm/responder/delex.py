"""Delexicalised replies: the responder writes `[order.tracking]`, the server writes the number.

A 3 M-parameter model trained for minutes on a CPU learns *which* fact a reply needs long before
it learns to copy 16 digits exactly (RESULTS.md: 4 % fact-copy accuracy when it had to copy).
So, as in task-oriented NLG (SC-GPT, MultiWOZ delexicalisation), the training replies name each
fact by its FACTS field — one added token per placeholder, emitted in one step — and the serving
side puts the exact value from the prompt back (`relexicalise`). The FACTS stay in the prompt:
the model still reads status, intent, note and language to choose its wording.

The FACTS block is parsed from the prompt text in the format `kefu.prompting.render_facts` writes,
so training (delexicalise) and serving (relexicalise) share one reading of it.

A placeholder whose field is not in the FACTS (the model wants a tracking number the order does
not have) is never filled with anything: the clause that holds it is dropped. What remains states
only facts from the context; if it no longer answers the question, the gateway's grounding check
(`answers.missing_facts`) rejects it and the grounded template answers instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ORDER_FIELDS = ("id", "status", "carrier", "tracking", "eta", "delivered", "total", "refund")
PRODUCT_FIELDS = ("id", "title", "price", "stock", "about")
MAX_PRODUCTS = 3
POLICY_SENTENCES = 3
SLOT_FIELDS = ("order_id",)

# Priority order: when two fields hold the same text, the first one names it.
FIELDS: tuple[str, ...] = (
    *(f"order.{f}" for f in ORDER_FIELDS),
    *(f"product{i}.{f}" for i in range(1, MAX_PRODUCTS + 1) for f in PRODUCT_FIELDS),
    *(f"policy.{i}" for i in range(1, POLICY_SENTENCES + 1)),
    *(f"slot.{f}" for f in SLOT_FIELDS),
)
PLACEHOLDERS: tuple[str, ...] = tuple(f"[{f}]" for f in FIELDS)
META_FLAG = "kefu_delexicalised"

PLACEHOLDER_RE = re.compile(r"\[(?:order|product\d|policy|slot)\.[a-z0-9_]+\]")
_FACTS_HEAD = re.compile(r"(?:^|\n)FACTS:\n")
_LINE = re.compile(r"^([a-z][a-z0-9 ]*?):\s?(.*)$")
_SENT_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
# A clause ends at ,;.!? followed by a space (not "22.95"), or at any Chinese clause mark.
_CLAUSE_END = re.compile(r"[,;.!?:](?=\s)|[,;.!?:]$|[，；。！？：]")


def parse_facts(text: str) -> dict[str, str]:
    """Field -> value of the FACTS block in a prompt (`order.id`, `product1.price`, `policy.1`...).

    Reads the lines after "FACTS:" up to the first line that is not a `key: value` fact (the
    chat template's `<|user|>` line, or the end). Values are exactly as rendered in the prompt.
    """
    heads = list(_FACTS_HEAD.finditer(text))
    if not heads:
        return {}
    m = heads[-1]
    out: dict[str, str] = {}
    for line in text[m.end():].split("\n"):
        lm = _LINE.match(line)
        if not lm or line.startswith("<|"):
            break
        key, value = lm.group(1), lm.group(2).strip()
        if key == "order":
            _parse_record(value, "order", out)
        elif key.startswith("product ") and key[8:].isdigit():
            _parse_record(value, f"product{int(key[8:])}", out)
        elif key == "policy":
            out["policy"] = value
            sents = [s.strip() for s in _SENT_END.split(value) if s and s.strip()]
            for i, s in enumerate(sents[:POLICY_SENTENCES], 1):
                out[f"policy.{i}"] = s
        elif key == "slots":
            for part in value.split(" | "):
                k, _, v = part.partition(" ")
                if k and v:
                    out[f"slot.{k}"] = v
        else:
            out[key] = value
    return out


def _parse_record(value: str, prefix: str, out: dict[str, str]) -> None:
    """`id KF1 | status shipped | total 59.90 USD` -> order.id, order.status, order.total."""
    for part in value.split(" | "):
        label, _, v = part.partition(" ")
        if label and v:
            out[f"{prefix}.{label}"] = v.strip()


def _value_regex(values: list[str]) -> re.Pattern[str]:
    alts = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9.])(?:{alts})(?![A-Za-z0-9]|\.\d)")


def delexicalise(reply: str, facts: dict[str, str]) -> str:
    """Replace every fact value the reply copies by its placeholder (longest value first, one pass)."""
    by_value: dict[str, str] = {}
    for f in FIELDS:
        v = facts.get(f)
        if v and v not in by_value:
            by_value[v] = f"[{f}]"
    if not by_value:
        return reply
    return _value_regex(list(by_value)).sub(lambda m: by_value[m.group(0)], reply)


def _clauses(text: str) -> list[str]:
    """Text cut after each clause mark; the pieces join back to the text exactly."""
    out, start = [], 0
    for m in _CLAUSE_END.finditer(text):
        end = m.end()
        while end < len(text) and text[end].isspace():
            end += 1
        out.append(text[start:end])
        start = end
    if start < len(text):
        out.append(text[start:])
    return out


def relexicalise(reply: str, facts: dict[str, str]) -> tuple[str, list[str]]:
    """(reply with every placeholder replaced by its exact FACTS value, placeholders that were missing).

    A clause holding a placeholder whose field is not in the FACTS is dropped (never filled in);
    when it ended the sentence, the kept clause before it takes over its end mark.
    """
    if "[" not in reply:
        return reply, []
    missing: list[str] = []
    kept: list[str] = []
    for clause in _clauses(reply):
        names = PLACEHOLDER_RE.findall(clause)
        absent = [n for n in names if n[1:-1] not in facts]
        if absent:
            missing += absent
            end = clause.rstrip()[-1:] if clause.strip() else ""
            if kept and end in ".!?。！？":
                prev = kept[-1].rstrip()
                tail = kept[-1][len(prev):]
                if prev and prev[-1] in ",;:，；：":
                    kept[-1] = prev[:-1] + end + tail
            continue
        kept.append(PLACEHOLDER_RE.sub(lambda m: facts[m.group(0)[1:-1]], clause))
    out = "".join(kept).strip()
    if missing and out and out[-1] in ",;:，；：":  # the dropped clause ended the reply
        out = out[:-1] + ("。" if out[-1] in "，；：" else ".")
    return out, missing


class StreamRelexer:
    """Relexicalises a streamed reply clause by clause (a clause is emitted once the next one has
    started, so a dropped clause can still lend its end mark), and equals `relexicalise` in total."""

    def __init__(self, facts: dict[str, str]) -> None:
        self.facts = facts
        self.raw = ""
        self.emitted = ""
        self.missing: list[str] = []

    def _emit(self, text: str) -> str:
        if not text.startswith(self.emitted):
            return ""  # cannot happen for clause-aligned prefixes; never emit text twice
        delta = text[len(self.emitted):]
        self.emitted = text
        return delta

    def feed(self, text: str) -> str:
        self.raw += text
        pieces = _clauses(self.raw)
        if len(pieces) < 3:
            return ""
        # The last piece may be unfinished, and the one before it may still lose its end mark.
        done = "".join(pieces[:-2])
        out, _ = relexicalise(done, self.facts)
        safe = out.rstrip()
        return self._emit(safe[:-1] if safe and _CLAUSE_END.match(safe[-1]) else safe)

    def finish(self) -> str:
        out, self.missing = relexicalise(self.raw, self.facts)
        return self._emit(out)


def is_delexicalised(folder: str | Path | None) -> bool:
    """Whether a model folder's meta.json says its replies carry placeholders."""
    if not folder:
        return False
    path = Path(folder) / "meta.json"
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get(META_FLAG))
    except (OSError, ValueError, AttributeError):
        return False


def _content_text(content: Any) -> str:
    """A message's text; of a multi-part content list, the text parts (only they carry facts)."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


def facts_of_messages(messages: list[dict[str, Any]]) -> dict[str, str]:
    """FACTS of a chat request: the system message(s) carry them."""
    text = "\n".join(_content_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))
    return parse_facts(text)
