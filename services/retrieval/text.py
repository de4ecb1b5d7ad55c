"""Text the scorers see: what of a product is embedded / indexed lexically, and tokenization.

English words are lower-cased and lightly stemmed (plurals), so "chairs" finds "chair"; CJK runs
are cut by jieba in search mode, so "跑步鞋" matches "跑鞋" partially and Chinese queries work
lexically against `attributes.title_zh` / `category_zh`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import jieba

from kefu.vocab import HAN_CLASS

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(f"[a-z0-9]+(?:['’][a-z]+)?|[{HAN_CLASS}]+")
_CJK = re.compile(f"[{HAN_CLASS}]")

STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with i me my we our you your want need looking look show find some any "
    "please can could would like get buy".split()
)
ZH_STOP = frozenset("的 了 和 是 在 我 要 想 一个 有没有 吗 呢 吧 请 给 买 找 个 一 些 什么 有".split())

# Attribute keys whose values describe the product in words (indexed); others (sku, ids) are not.
TEXT_ATTRS = ("title_zh", "category_zh", "description_zh", "color", "color_zh", "colour", "material",
              "material_zh", "style", "type", "tags", "keywords", "features", "brand_zh", "gender")


def stem(word: str) -> str:
    """Plural folding only: conservative, so brand names and model numbers survive."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str, *, stopwords: bool = True) -> list[str]:
    out: list[str] = []
    for m in _WORD.finditer(text.lower()):
        tok = m.group(0)
        if _CJK.match(tok):
            for w in jieba.lcut_for_search(tok):
                if w.strip() and not (stopwords and w in ZH_STOP):
                    out.append(w)
        else:
            tok = tok.replace("’", "'").split("'")[0]
            if stopwords and tok in STOPWORDS:
                continue
            out.append(stem(tok))
    return out


def _attr_text(attrs: dict[str, Any] | None) -> list[str]:
    parts: list[str] = []
    for k in TEXT_ATTRS:
        v = (attrs or {}).get(k)
        if isinstance(v, str) and v.strip():
            parts.append(v.strip())
        elif isinstance(v, list):
            parts.extend(str(x) for x in v if isinstance(x, (str, int, float)))
    return parts


def embed_text(p: dict[str, Any], max_desc_chars: int = 300) -> str:
    """The passage MiniLM embeds: title and category first (they carry the meaning and survive
    the 256-token truncation), then brand, Chinese names and the start of the description."""
    parts = [p.get("title") or ""]
    if p.get("category"):
        parts.append(p["category"])
    if p.get("brand"):
        parts.append(p["brand"])
    parts.extend(_attr_text(p.get("attributes")))
    desc = (p.get("description") or "").strip()
    if desc and max_desc_chars:
        parts.append(desc[:max_desc_chars])
    return ". ".join(x.strip() for x in parts if x and x.strip())


def lexical_tokens(p: dict[str, Any], title_weight: int = 2, category_weight: int = 2) -> list[str]:
    """BM25 field weighting by repetition: a title/category match counts more than a stray word in
    the description, which is what a shopper's short query is usually about."""
    toks: list[str] = []
    title = tokenize(p.get("title") or "")
    cat = tokenize(p.get("category") or "")
    attrs = p.get("attributes") or {}
    zh_title = tokenize(str(attrs.get("title_zh") or ""))
    zh_cat = tokenize(str(attrs.get("category_zh") or ""))
    toks += (title + zh_title) * title_weight
    toks += (cat + zh_cat) * category_weight
    toks += tokenize(p.get("brand") or "")
    toks += tokenize(" ".join(_attr_text({k: v for k, v in attrs.items() if k not in ("title_zh", "category_zh")})))
    toks += tokenize(p.get("description") or "")
    return toks


def text_hash(text: str, model: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()[:32]
