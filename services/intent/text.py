"""Text clean-up shared by training and serving, so both stages see exactly the same tokens.

fastText splits on whitespace only; Chinese has no spaces, so CJK runs are segmented with jieba
(fastText's character n-grams then cover the characters inside each word).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

from kefu.vocab import HAN_CLASS

# Messages longer than this carry no more intent signal; truncating keeps 100 KB inputs cheap.
MAX_CHARS = 1000

# Han (kefu.vocab), kana and Hangul runs are cut apart from words; only Han makes a message Chinese.
_CJK_CLASS = HAN_CLASS + "\u3040-\u30ff\uac00-\ud7af"
_CJK = re.compile(f"[{_CJK_CLASS}]+")
_TOKEN = re.compile(
    f"[{_CJK_CLASS}]+"  # CJK run
    r"|[^\W_]+(?:['’][^\W_]+)*"  # word (letters/digits, with apostrophes)
    r"|[^\w\s]",  # single punctuation / symbol / emoji
    re.UNICODE,
)
_jieba_lock = threading.Lock()
_jieba_ready = False


def clean(text: str, max_chars: int = MAX_CHARS) -> str:
    """Control/format characters become spaces, whitespace collapses, and the text is truncated."""
    text = text[: max_chars * 4]
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] == "C" and ch not in "\u200d":  # Cc, Cf, Cs, Co, Cn → space (keep ZWJ for emoji)
            out.append(" ")
        else:
            out.append(ch)
    text = " ".join("".join(out).split())
    return text[:max_chars]


def _jieba():
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) instead of on the first Chinese message."""
    _jieba()


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; CJK runs segmented by jieba."""
    out: list[str] = []
    for m in _TOKEN.finditer(clean(text).lower()):
        tok = m.group()
        if _CJK.fullmatch(tok):
            out.extend(w for w in _jieba().lcut(tok, HMM=True) if w.strip())
        else:
            out.append(tok)
    return out


def ft_line(text: str) -> str:
    """The single line fastText sees for a message (never empty, never containing newlines)."""
    return " ".join(tokens(text)) or "<empty>"
