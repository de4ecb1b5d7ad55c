"""kefu's bundled demo data: intents, catalog, orders and shop policy, written by this project.

Services read these through the accessors below rather than hard-coding paths, so a packaged
install and a source checkout behave the same. Regenerate with ``python -m kefu.data.generate``.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent

LANGS = ("en", "zh")

# Which policy section answers which intent (keys of policy_sections()).
POLICY_TOPICS: dict[str, str] = {
    "return_request": "returns",
    "refund_status": "refunds",
    "shipping_info": "shipping",
    "payment_issue": "payment",
    "cancel_order": "cancellations",
    "change_order": "order changes",
    "change_address": "order changes",
    "coupon": "coupons",
    "account_help": "account",
    "human_agent": "contact",
    "complaint": "contact",
}

ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")


def data_dir() -> Path:
    return _HERE


def intents_path() -> Path:
    """The project's own phrasings (generated from `_intent_templates*.py`)."""
    return _HERE / "intents.csv"


def public_intents_path() -> Path:
    """Public, licensed customer-support utterances mapped to the taxonomy (ODbL; see SOURCES.md)."""
    return _HERE / "intents_public.csv"


def write_default_training(dest: Path) -> tuple[Path, dict[str, int]]:
    """The default model's training set: our phrasings plus the public rows, one CSV
    (`text,label,lang,source`), so real shoppers' wording is learnt and not only ours. Returns
    the file and the row count per source."""
    rows: list[dict[str, str]] = []
    for path, default_source in ((intents_path(), "kefu"), (public_intents_path(), "public")):
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                rows.append({"text": r["text"], "label": r["label"], "lang": r.get("lang") or "",
                             "source": r.get("source") or default_source})
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["text", "label", "lang", "source"])
        w.writeheader()
        w.writerows(rows)
    return dest, dict(Counter(r["source"] for r in rows))


def catalog_path() -> Path:
    return _HERE / "catalog.jsonl"


def orders_path() -> Path:
    return _HERE / "orders.jsonl"


def policy_path(lang: str = "en") -> Path:
    if lang not in LANGS:
        raise ValueError(f"no policy for language {lang!r}; have {', '.join(LANGS)}")
    return _HERE / "policy" / f"{lang}.md"


def policy_text(lang: str = "en") -> str:
    return policy_path(lang).read_text(encoding="utf-8")


_SECTION = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)


# "## 付款方式 {#payment}": a heading with an id of its own (Pandoc / Markdown Extra), so what is
# keyed on it stays put when the heading is renamed or translated.
_HEADING_ID = re.compile(r"^(.+?)\s*\{#([A-Za-z0-9_-]+)\}\s*$")


def heading_id(head: str) -> tuple[str, str | None]:
    """(the heading's text, its id in lower case or None)."""
    m = _HEADING_ID.match(head)
    return (m.group(1), m.group(2).lower()) if m else (head, None)


@lru_cache(maxsize=4)
def _sections(lang: str) -> tuple[tuple[str, str], ...]:
    text = policy_text(lang)
    marks = list(_SECTION.finditer(text))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        head, hid = heading_id(m.group(1).strip())  # the id is the key in every language
        key = hid.replace("-", " ") if hid else head.lower()
        out.append((key, text[m.end():end].strip()))
    return tuple(out)


def policy_sections(lang: str = "en") -> dict[str, str]:
    """Section body by lowercase heading ("returns", "order changes"…); same keys in every language."""
    return dict(_sections(lang))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_catalog() -> list[dict[str, Any]]:
    return _read_jsonl(catalog_path())


def load_orders() -> list[dict[str, Any]]:
    return _read_jsonl(orders_path())


def load_intents() -> list[dict[str, str]]:
    with intents_path().open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


__all__ = [
    "LANGS", "ORDER_STATUSES", "POLICY_TOPICS", "catalog_path", "data_dir", "intents_path",
    "load_catalog", "load_intents", "load_orders", "orders_path", "policy_path", "policy_sections",
    "policy_text",
]
