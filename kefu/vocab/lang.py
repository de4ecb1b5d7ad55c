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
