"""Slot extraction from one shopper message, English and Chinese, with no model in the loop.

Rule-based on purpose: slots feed order look-ups and catalog filters, where a wrong value is
worse than a missing one, and a regex answers in microseconds (the state update budget is 5 ms).

Decisions (documented in services/dialog/README.md):
- order ids follow the shop's pattern, `kefu.vocab.order_ids()` (the demo's: `KF` + 6 digits),
  case-insensitive, normalised to upper case; a bare number counts only right after
  "order"/"order #"/"order no."/"订单"/"单号" ("order 100042" -> KF100042), so prices and phone
  numbers are never read as orders.
- phone numbers need 8+ digits (Chinese mobiles `1[3-9]` + 9 digits); stored as digits with an
  optional leading "+".
- sizes: shoe sizes 34-48 (EU) / 3-15 (US, halves allowed) after "size"/"in"/"EU"/"US" or before
  码/号; clothing S/M/L/XL/XXL/XS (upper case alone, or after "size"), small/medium/large only
  after "size"; 大号/中号/小号.
- colours are normalised to English names (红色 -> red).
- price ranges: under/below/less than/up to/at most/max/cheaper than -> price_max; over/above/
  more than/at least/from -> price_min; between A and B, A-B, A to B -> both; 元以下/以内/以下/
  不超过/低于 -> price_max; 元以上/以上/高于/不低于 -> price_min; A到B元/A-B元/A至B -> both.
- quantities: a number (digits, English words, Chinese numerals) before a unit word (pairs,
  pieces, items, of them, 件/双/个/条/台/只/套/瓶/盒/包) or after "qty"/"quantity"/"x"; never
  after 第 (that is an ordinal) and not 一+classifier (usually just "a").
"""

from __future__ import annotations

import re
from typing import Any

from kefu.vocab import HAN_CLASS, order_ids

CJK = re.compile(f"[{HAN_CLASS}]")

EN_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "a couple of": 2, "a pair of": 1}
ZH_DIGIT = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
            "九": 9}


def zh_number(s: str) -> int | None:
    """'三' -> 3, '十二' -> 12, '二十' -> 20, '7' -> 7 (small numbers only: quantities, ordinals)."""
    if s.isdigit():
        return int(s)
    if not s or any(c not in ZH_DIGIT and c != "十" for c in s):
        return None
    if "十" in s:
        tens, _, ones = s.partition("十")
        t = ZH_DIGIT.get(tens, 1) if tens else 1
        o = ZH_DIGIT.get(ones, 0) if ones else 0
        return t * 10 + o
    if len(s) == 1:
        return ZH_DIGIT[s]
    return None


def number(value: str) -> float | int:
    v = float(value.replace(",", ""))
    return int(v) if v.is_integer() else v


# --------------------------------------------------------------------------- order ids, contact

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE_CN = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)")
PHONE_INTL = re.compile(r"(?<![A-Za-z0-9+])(\+?\d[\d\s().-]{6,}\d)(?![A-Za-z0-9])")


def extract_order_ids(text: str) -> list[str]:
    return order_ids().find_all(text)


def extract_phone(text: str) -> str | None:
    found = find_phone(text)
    return found[0] if found else None


def find_phone(text: str) -> tuple[str, str] | None:
    """(normalised number, the text it was written as)."""
    scrubbed = order_ids().mask(EMAIL.sub(" ", text))
    m = PHONE_CN.search(scrubbed)
    if m:
        return re.sub(r"\D", "", m.group(1)), m.group(0)
    for m in PHONE_INTL.finditer(scrubbed):
        raw = m.group(1)
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 8 or len(digits) > 15:
            continue
        if re.fullmatch(r"\d{1,4}(?:\.\d+)?\s*-\s*\d{1,4}(?:\.\d+)?", raw.strip()):
            continue  # a price range like 50-100
        return ("+" if raw.strip().startswith("+") else "") + digits, raw
    return None


# --------------------------------------------------------------------------- colours

COLOURS_EN = {
    "black": "black", "white": "white", "red": "red", "blue": "blue", "green": "green",
    "yellow": "yellow", "pink": "pink", "purple": "purple", "grey": "grey", "gray": "grey",
    "brown": "brown", "orange": "orange", "navy": "navy", "beige": "beige", "silver": "silver",
    "gold": "gold",
}
COLOURS_ZH = {
    "黑": "black", "白": "white", "红": "red", "蓝": "blue", "绿": "green", "黄": "yellow",
    "粉": "pink", "粉红": "pink", "紫": "purple", "灰": "grey", "棕": "brown", "咖啡": "brown",
    "橙": "orange", "藏青": "navy", "海军蓝": "navy", "米": "beige", "银": "silver", "金": "gold",
}
COLOUR_ZH_NAME = {"black": "黑色", "white": "白色", "red": "红色", "blue": "蓝色", "green": "绿色",
                  "yellow": "黄色", "pink": "粉色", "purple": "紫色", "grey": "灰色", "brown": "棕色",
                  "orange": "橙色", "navy": "藏青色", "beige": "米色", "silver": "银色", "gold": "金色"}
_COLOUR_EN_RE = re.compile(r"\b(" + "|".join(COLOURS_EN) + r")\b", re.I)
_COLOUR_ZH_RE = re.compile(
    "(" + "|".join(sorted(COLOURS_ZH, key=len, reverse=True)) + r")(?:色的?|的)(?!确|话)")


def extract_colour(text: str) -> str | None:
    m = _COLOUR_ZH_RE.search(text)
    if m:
        return COLOURS_ZH[m.group(1)]
    m = _COLOUR_EN_RE.search(text)
    return COLOURS_EN[m.group(1).lower()] if m else None


# --------------------------------------------------------------------------- sizes

_SIZE_WORD = {"small": "S", "medium": "M", "large": "L", "extra large": "XL", "x-large": "XL"}
_SIZE_PATTERNS = [
    re.compile(r"\bsize(?:\s*[:#]\s*|\s+)(xxs|xs|s|m|l|xl|xxl|xxxl|extra large|x-large|small|medium|large)\b", re.I),
    re.compile(r"\b(?:size|eu|us|uk)\s*[:#]?\s*(\d{1,2}(?:\.5)?)\b", re.I),
    re.compile(r"(\d{1,2}(?:\.5)?)\s*(?:码|号)(?!码)"),
    re.compile(r"(XXS|XS|XXL|XXXL|XL|S|M|L)\s*(?:码|号)"),
    re.compile(r"(?<![A-Za-z])(XXS|XS|XXL|XXXL|XL)(?![A-Za-z])"),
    re.compile(r"\bin\s+(?:a\s+|an\s+)?(?:size\s+)?(\d{1,2}(?:\.5)?)\b(?!\s*(?:colou?rs?|days?|hours?|pcs|pieces|"
               r"pairs|items|dollars|usd|\$|%|元|块))", re.I),
]
_ZH_SIZE_WORD = {"大号": "L", "中号": "M", "小号": "S", "加大号": "XL"}


def extract_size(text: str) -> str | None:
    for word, size in _ZH_SIZE_WORD.items():
        if word in text:
            return size
    for pat in _SIZE_PATTERNS:
        m = pat.search(text)
        if not m:
            continue
        raw = m.group(1)
        if raw[0].isdigit():
            val = float(raw)
            if not (3 <= val <= 15 or 34 <= val <= 48):
                continue
            return raw
        return _SIZE_WORD.get(raw.lower(), raw.upper())
    return None


# --------------------------------------------------------------------------- prices

_AMT = r"(?:\$|usd\s*|¥|￥|rmb\s*)?(\d+(?:,\d{3})*(?:\.\d+)?)\s*(?:dollars|bucks|usd|元|块钱?|rmb)?"
_PRICE_BETWEEN = [
    re.compile(r"\bbetween\s+" + _AMT + r"\s+and\s+" + _AMT, re.I),
    re.compile(r"\bfrom\s+" + _AMT + r"\s+to\s+" + _AMT, re.I),
    re.compile(r"(?:价格|价位)?在?(\d+(?:\.\d+)?)\s*(?:-|–|~|到|至)\s*(\d+(?:\.\d+)?)\s*(?:元|块)?(?:之间|以内)"),
    re.compile(r"(?<![A-Za-z0-9.])" + r"(?:\$|¥|￥)?(\d+(?:\.\d+)?)\s*(?:-|–|~|到|至)\s*(?:\$|¥|￥)?(\d+(?:\.\d+)?)"
               r"\s*(?:dollars|bucks|usd|元|块钱?)", re.I),
    re.compile(r"(?<![A-Za-z0-9.])(?:\$|¥|￥)(\d+(?:\.\d+)?)\s*(?:-|–|~|to)\s*(?:\$|¥|￥)(\d+(?:\.\d+)?)", re.I),
]
_PRICE_MAX = [
    re.compile(r"\b(?:under|below|less than|cheaper than|up to|at most|max(?:imum)?|no more than|"
               r"not more than|within|lower than|<)\s*" + _AMT, re.I),
    re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块钱?|美元|刀)?\s*(?:以下|以内|之内|内)"),
    re.compile(r"(?:不超过|低于|少于|不到|最多)\s*(\d+(?:\.\d+)?)\s*(?:元|块钱?)?"),
]
_PRICE_MIN = [
    re.compile(r"\b(?:over|above|more than|at least|min(?:imum)?|higher than|starting at|>)\s*" + _AMT, re.I),
    re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块钱?|美元|刀)?\s*以上"),
    re.compile(r"(?:高于|不低于|(?<!不)超过|至少)\s*(\d+(?:\.\d+)?)\s*(?:元|块钱?)?"),
]
PRICE_SPANS = _PRICE_BETWEEN + _PRICE_MAX + _PRICE_MIN


def extract_price(text: str) -> dict[str, float | int]:
    for pat in _PRICE_BETWEEN:
        m = pat.search(text)
        if m:
            a, b = number(m.group(1)), number(m.group(2))
            return {"price_min": min(a, b), "price_max": max(a, b)}
    out: dict[str, float | int] = {}
    for pat in _PRICE_MAX:
        m = pat.search(text)
        if m:
            out["price_max"] = number(m.group(1))
            break
    for pat in _PRICE_MIN:
        m = pat.search(text)
        if m:
            out["price_min"] = number(m.group(1))
            break
    return out


def strip_price_phrases(text: str) -> str:
    for pat in PRICE_SPANS:
        text = pat.sub(" ", text)
    return text


# --------------------------------------------------------------------------- quantities

_QTY_UNITS_EN = r"(?:pairs?|pieces?|pcs|units?|items?|bottles?|boxes|packs?|sets?|of (?:them|these|those|it))"
_QTY_EN = [
    re.compile(r"\b(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|a couple of)\s+(?:more\s+)?"
               + _QTY_UNITS_EN + r"\b", re.I),
    re.compile(r"\b(?:qty|quantity|amount)\s*[:=]?\s*(\d{1,3})\b", re.I),
    re.compile(r"(?<![\w.])x\s?(\d{1,3})\b|\b(\d{1,3})\s?x(?![\w])", re.I),
    re.compile(r"\b(?:buy|order|get|take|want|need)\s+(\d{1,3}|two|three|four|five|six|seven|eight|nine|ten)\b"
               r"(?!\s*(?:dollars|bucks|usd|%|days?))", re.I),
]
_QTY_ZH = re.compile(r"(?<!第)(?<![\d.])([0-9]{1,3}|[一二两三四五六七八九十]{1,3})\s*"
                     r"(件|双|个|条|台|只|套|瓶|盒|包|份)")


def extract_quantity(text: str) -> int | None:
    for m in _QTY_ZH.finditer(text):
        if m.group(1) == "一":
            continue  # 一双/一件/一个 is mostly just "a"; one is the default quantity anyway
        n = zh_number(m.group(1))
        if n:
            return n
    for pat in _QTY_EN:
        hit = pat.search(text)
        if hit:
            raw = (hit.group(1) or (hit.group(2) if hit.lastindex and hit.lastindex >= 2 else "") or "").lower()
            if raw.isdigit():
                return int(raw)
            if raw in EN_NUM:
                return EN_NUM[raw]
    return None


# --------------------------------------------------------------------------- all together

def extract(text: str) -> dict[str, Any]:
    """Every slot stated in this one message (no context)."""
    slots: dict[str, Any] = {}
    orders = extract_order_ids(text)
    if orders:
        slots["order_id"] = orders[-1]
    m = EMAIL.search(text)
    if m:
        slots["email"] = m.group(0).lower()
    phone = find_phone(text)
    if phone:
        slots["phone"] = phone[0]
    scrub = EMAIL.sub(" ", order_ids().mask(text))
    if phone:
        scrub = scrub.replace(phone[1], " ")
    slots.update(extract_price(scrub))
    no_price = strip_price_phrases(scrub)
    size = extract_size(no_price)
    if size:
        slots["size"] = size
    colour = extract_colour(no_price)
    if colour:
        slots["colour"] = colour
    qty = extract_quantity(no_price)
    if qty is not None:
        slots["quantity"] = qty
    return slots


def fmt_price(v: float | int) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")
