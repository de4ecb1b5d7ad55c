"""What a message says for an order conversation besides its intent: verification factors, an
answer to a confirmation question, a new shipping address, why an item goes back."""

from __future__ import annotations

import re

from gateway.orders.rules import return_reason
from gateway.orders.verify import factors_in
from kefu.vocab.replies import yes_or_no

__all__ = ["factors_in", "new_address", "return_reason", "yes_or_no"]

_ADDRESS_EN = re.compile(
    r"(?:(?:change|update|correct|fix|set)\s+(?:the\s+|my\s+)?(?:shipping\s+|delivery\s+)?address"
    r"(?:\s+(?:of|for|on)\s+(?:order\s+)?\S+)?\s+to|new\s+(?:shipping\s+|delivery\s+)?address\s*(?:is|:)|"
    r"(?:ship|send|deliver)\s+it\s+to)\s*[:：]?\s*(?P<addr>.{8,200}?)\s*[.!]?\s*$", re.I)
_ADDRESS_ZH = re.compile(r"(?:地址(?:改成|改为|换成|更改为|修改为)|新地址(?:是|为)?[:：]?|(?:寄到|送到|发到))\s*"
                         r"(?P<addr>.{4,120}?)\s*[。!！]?\s*$")


def new_address(text: str) -> str | None:
    """The address a shopper wants an order sent to, as they wrote it (None when not stated)."""
    for rx in (_ADDRESS_EN, _ADDRESS_ZH):
        if m := rx.search(text):
            addr = m.group("addr").strip(" ,，")
            if any(ch.isdigit() for ch in addr) or len(addr) >= 10:
                return addr
    return None
