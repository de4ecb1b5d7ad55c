"""What the shop's policy allows for an order, in numbers: which statuses may be cancelled or
re-addressed, the return window and fee, standard shipping and the free-shipping threshold. Read
from the shop's `rules.json` (the bundled one matches kefu/data/policy/*.md; `KEFU_POLICY_RULES`
points at a shop's own)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

BUNDLED = Path(__file__).resolve().parents[2] / "kefu" / "data" / "policy" / "rules.json"

# Why a shopper returns an item, from their words: faulty, damaged and wrong items ship back free.
_REASONS = (
    ("damaged", re.compile(r"\b(damaged|crushed|cracked|smashed|dented|torn|ripped|arrived broken)\b"
                           r"|破损|压坏|摔坏|碎了|裂了", re.I)),
    ("faulty", re.compile(r"\b(faulty|defective|broken|broke|doesn'?t work|does not work|stopped working|not working"
                          r"|dead on arrival|malfunction\w*|fell apart|came apart)\b"
                          r"|坏了|质量问题|不能用|用不了|故障|开胶|掉色",
                          re.I)),
    ("wrong_item", re.compile(r"\b(wrong (item|size|colou?r|product|one)|not what i ordered|sent me the wrong|"
                              r"different (item|product))\b|发错|寄错|不是我买的|不是我要的", re.I)),
)


@dataclass(frozen=True)
class ShopRules:
    currency: str = "USD"
    cancellable_statuses: tuple[str, ...] = ("pending", "paid")
    address_change_statuses: tuple[str, ...] = ("pending", "paid")
    returnable_statuses: tuple[str, ...] = ("delivered",)
    return_window_days: int = 30
    return_fee: float = 6.95
    free_return_reasons: tuple[str, ...] = field(default=("faulty", "damaged", "wrong_item"))
    standard_shipping_fee: float = 5.99
    free_shipping_over: float = 50.0  # orders strictly over this ship free (the policy says "over $50")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ShopRules:
        known: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()
                                 if k in cls.__dataclass_fields__}
        return cls(**known)

    def can_cancel(self, order: dict[str, Any]) -> tuple[bool, str]:
        st = str(order.get("status") or "")
        if st in self.cancellable_statuses:
            return True, "cancellable"
        return False, "already_cancelled" if st == "cancelled" else st

    def can_change_address(self, order: dict[str, Any]) -> tuple[bool, str]:
        st = str(order.get("status") or "")
        return (True, "changeable") if st in self.address_change_statuses else (False, st)

    def return_deadline(self, order: dict[str, Any]) -> date | None:
        delivered = order.get("delivered_at")
        if not delivered:
            return None
        return date.fromisoformat(str(delivered)[:10]) + timedelta(days=self.return_window_days)

    def can_return(self, order: dict[str, Any], today: date) -> tuple[bool, str]:
        st = str(order.get("status") or "")
        if st not in self.returnable_statuses:
            return False, st
        deadline = self.return_deadline(order)
        if deadline is not None and today > deadline:
            return False, "window_closed"
        return True, "returnable"

    def shipping_for(self, subtotal: float) -> dict[str, float | bool]:
        """Standard shipping on an order of this subtotal: the fee, the total, and how much more
        would make it free."""
        free = subtotal > self.free_shipping_over
        fee = 0.0 if free else self.standard_shipping_fee
        return {"subtotal": round(subtotal, 2), "fee": fee, "total": round(subtotal + fee, 2), "free": free,
                "free_over": self.free_shipping_over, "standard_fee": self.standard_shipping_fee}

    def return_fee_for(self, reason: str) -> float:
        return 0.0 if reason in self.free_return_reasons else self.return_fee


def return_reason(text: str) -> str:
    """faulty | damaged | wrong_item | other, from the shopper's words."""
    for name, rx in _REASONS:
        if rx.search(text):
            return name
    return "other"


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> ShopRules:
    p = Path(path) if path else BUNDLED
    return ShopRules.from_dict(json.loads(p.read_text(encoding="utf-8")))
