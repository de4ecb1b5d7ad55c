"""The one language rule: a message with any Han character is Chinese, anything else English.

Mixed messages ("我想买 Nike Air Max") are Chinese: the shopper chose to write Chinese and reads
the reply in it. Kana and Hangul alone are not Chinese (the shop answers those in its default).
Tokenizers that must split CJK runs build their character classes from `HAN_CLASS`.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs, Extension A, Compatibility Ideographs.
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN = re.compile(f"[{HAN_CLASS}]")


def is_zh(text: str | None) -> bool:
    return bool(text) and _HAN.search(text or "") is not None


def detect_lang(text: str | None, default: str = "en") -> str:
    """'zh' when the text holds a Han character, else `default`."""
    return "zh" if is_zh(text) else default


# What carries no language of its own: e-mail addresses, links, tokens with a digit (order ids,
# postcodes, phone numbers), punctuation and emoji.
_NEUTRAL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|https?://[!-~]+|[A-Za-z0-9#._/-]*\d[A-Za-z0-9#._/-]*"
                      r"|[\W_]")


def is_neutral(text: str | None) -> bool:
    """True when the message holds no word of any language ("KF100001", "ann@example.com",
    "3000", "👍"): it is then read in the language the shopper has been writing."""
    return not _NEUTRAL.sub("", text or "")


def conversation_lang(text: str | None, earlier: list[str] | None = None, default: str = "en") -> str:
    """The reply language for `text`: its own, unless it is neutral — then that of the latest
    earlier shopper message that was not (a Chinese shopper who sends only an e-mail address to
    verify an order keeps getting Chinese)."""
    if not is_neutral(text):
        return detect_lang(text, default)
    for prior in reversed(earlier or []):
        if not is_neutral(prior):
            return detect_lang(prior, default)
    return default


# Sentence ends: English ., ! or ? followed by space (and an optional closing quote/bracket), and
# the Chinese full-width marks, which end a sentence with no space after them. "e.g. KF100042",
# "No. 5" and "$5.99" end nothing: abbreviations are masked before splitting (a quoted policy
# sentence cut at "e.g." reached shoppers as a fragment).
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|no|nos|mr|mrs|ms|dr|approx|st|incl|min|max|ca)\.", re.IGNORECASE)
_SENT_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]?\s+(?![a-z])|(?<=[。！？])\s*")
_MASK = "\0"


def sentences(text: str) -> list[str]:
    """The text's sentences, English and Chinese, stripped; closing quotes stay with their sentence
    and a lower-case word after a full stop continues it ("U.S. orders")."""
    masked = _ABBREV.sub(lambda m: m.group(0).replace(".", _MASK), text)
    out: list[str] = []
    pos = 0
    for m in _SENT_END.finditer(masked):
        end = m.start() + len(m.group(0).rstrip())
        out.append(masked[pos:end])
        pos = m.end()
    out.append(masked[pos:])
    return [s.replace(_MASK, ".").strip() for s in out if s.strip()]
