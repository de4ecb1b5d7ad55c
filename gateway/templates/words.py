"""Formatting shared by every template: money, product names, one line per language."""

from __future__ import annotations

from typing import Any

CURRENCY_SIGNS = {"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£"}


def say(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def money(value: Any, currency: str = "USD") -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    sym = CURRENCY_SIGNS.get((currency or "USD").upper())
    return f"{sym}{v:.2f}" if sym else f"{v:.2f} {currency}"


def title(p: dict[str, Any], lang: str) -> str:
    """A product's name in the shopper's language (the Chinese title when the catalog has one)."""
    if lang == "zh":
        zh = (p.get("attributes") or {}).get("title_zh")
        if zh:
            return str(zh)
    return str(p.get("title") or p.get("id"))
