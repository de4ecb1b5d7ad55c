"""Orders in words: the shop's order-id pattern, the statuses, and how each language says them.

The order-id pattern is a setting (`KEFU_ORDER_ID_PATTERN`, a regular expression of one id as the
shop writes it: `KF\\d{6}` for the demo, `#?\\d{4}`, `\\d{9}`, `\\d{4}-\\d{4}` elsewhere). When the
pattern starts with letters (a prefix), "KF-100042" and "kf 100042" are the same id, and a bare
number right after "order"/"订单号" gets the prefix ("order 100042" → KF100042), so prices and phone
numbers are never read as orders.
"""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_PATTERN = r"KF\d{6}"
CANCELLABLE = ("pending", "paid")
STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")

# How a reply states each status (templates and the responder's training corpus alike).
STATUS_EN = {"pending": "pending payment", "paid": "paid and waiting to ship", "shipped": "shipped",
             "delivered": "delivered", "cancelled": "cancelled", "refunded": "refunded"}
STATUS_ZH = {"pending": "待付款", "paid": "已付款，待发货", "shipped": "已发货", "delivered": "已签收",
             "cancelled": "已取消", "refunded": "已退款"}
# The orders table's refund_status values, as a shopper reads them.
REFUND_EN = {"pending": "Your refund is pending.", "processing": "Your refund is being processed.",
             "completed": "Your refund has been completed.", "return_requested": "A return has been requested.",
             "return_received": "We have received your return."}
REFUND_ZH = {"pending": "待处理", "processing": "处理中", "completed": "已完成",
             "return_requested": "退货申请中", "return_received": "已收到退货"}

# Phrases that state a status or refund state in a reply (the answer check looks for one of them;
# the first of each is how templates put it). Negation-bearing ones are the fact themselves.
STATUS_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "pending": ("pending", "awaiting payment", "waiting for payment", "not been paid", "not paid", "unpaid"),
        "paid": ("paid", "not shipped", "not yet shipped", "hasn't shipped", "has not shipped", "preparing",
                 "being prepared", "processing", "waiting to ship"),
        "shipped": ("shipped", "on its way", "in transit", "dispatched", "out for delivery"),
        "delivered": ("delivered",),
        "cancelled": ("cancelled", "canceled"),
        "refunded": ("refunded",),
    },
    "zh": {
        "pending": ("待付款", "未付款", "等待付款", "待支付", "未支付"),
        "paid": ("已付款", "待发货", "未发货", "尚未发货", "还没发货", "备货"),
        "shipped": ("已发货", "发货了", "运输中", "配送中", "派送中", "在途"),
        "delivered": ("签收", "已送达"),
        "cancelled": ("已取消", "取消了"),
        "refunded": ("已退款", "退款完成"),
    },
}
REFUND_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "pending": ("pending",),
        "processing": ("processing", "being processed", "in progress"),
        "completed": ("completed", "complete", "refunded", "processed", "issued"),
        "return_requested": ("return requested", "return_requested", "requested"),
        "return_received": ("return received", "return_received", "received"),
    },
    "zh": {
        "pending": ("待处理",),
        "processing": ("处理中", "正在处理"),
        "completed": ("已完成", "已退款", "退款完成", "已退回"),
        "return_requested": ("退货申请中", "已申请退货"),
        "return_received": ("已收到退货", "收到退货"),
    },
}
SELF_NEGATED = frozenset({"not been paid", "not paid", "unpaid", "not shipped", "not yet shipped",
                          "hasn't shipped", "has not shipped", "未付款", "未支付", "未发货", "尚未发货", "还没发货"})


def status_words(status: str, lang: str) -> tuple[str, ...]:
    """Phrases that say `status` in `lang` (an unknown status: the value itself)."""
    return STATUS_PHRASES.get(lang, STATUS_PHRASES["en"]).get(status, (status,))


def refund_words(refund_status: str, lang: str) -> tuple[str, ...]:
    table = REFUND_PHRASES.get(lang, REFUND_PHRASES["en"])
    return table.get(refund_status, (refund_status.replace("_", " "),))


_ORDER_WORD = (r"(?:\border\s*(?:#|no\.?|number|id)?\s*[:：]?\s*|订单(?:号|编号)?\s*[:：#]?\s*"
               r"|单号\s*[:：#]?\s*)")


class OrderIds:
    """Finds and normalises the shop's order ids in free text."""

    def __init__(self, pattern: str = DEFAULT_PATTERN) -> None:
        re.compile(pattern)  # a bad setting fails here, loudly, at start-up
        self.pattern = pattern
        m = re.match(r"[A-Za-z]+(?![*+?{])", pattern)
        self.prefix = m.group(0).upper() if m else ""
        rest = pattern[len(self.prefix):] if self.prefix else pattern
        head = rf"{re.escape(self.prefix)}[\s#-]?" if self.prefix else ""
        self._id = re.compile(rf"(?<![A-Za-z0-9]){head}(?P<oid>{rest})(?![A-Za-z0-9])", re.IGNORECASE)
        self._bare = (re.compile(rf"{_ORDER_WORD}(?P<oid>{rest})(?![A-Za-z0-9])", re.IGNORECASE)
                      if self.prefix else None)
        self._full = re.compile(rf"(?:{pattern})", re.IGNORECASE)

    def find_all(self, text: str | None) -> list[str]:
        """Every order id in the text, in order of appearance, normalised, without repeats."""
        if not text:
            return []
        found = [(m.start(), self.prefix + m.group("oid").upper()) for m in self._id.finditer(text)]
        if self._bare is not None:
            found += [(m.start("oid"), self.prefix + m.group("oid").upper()) for m in self._bare.finditer(text)]
        out: list[str] = []
        for _, oid in sorted(found):
            if oid not in out:
                out.append(oid)
        return out

    def find(self, *texts: str | None) -> str | None:
        """The first order id in the first text that has one."""
        for t in texts:
            ids = self.find_all(t)
            if ids:
                return ids[0]
        return None

    def is_order_id(self, value: str) -> bool:
        return self._full.fullmatch(value.strip()) is not None

    def normalise(self, value: str) -> str:
        """The canonical form of an id the shopper typed (upper case, separator dropped)."""
        return self.find(value) or value.strip().upper()

    def mask(self, text: str, repl: str = " ") -> str:
        """The text with every order id (and a bare one after "order") replaced, so phone and
        number rules never read one."""
        text = self._id.sub(repl, text)
        return self._bare.sub(repl, text) if self._bare is not None else text


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> OrderIds:
    return OrderIds(pattern)


def order_ids(pattern: str | None = None) -> OrderIds:
    """The process's order-id rule: `pattern`, else the `KEFU_ORDER_ID_PATTERN` setting."""
    if pattern is None:
        from kefu.settings import get_settings  # settings import nothing from here: no cycle

        pattern = get_settings().order_id_pattern
    return _compiled(pattern)
