"""Fill a scripted conversation's placeholders from the shop's own data: `{order:STATUS}` takes an
order of that status (a different one per conversation, so actions never collide), `{order.FIELD}`
reads it, `{order:missing}` is an id no order has, `{product:QUERY}` the best catalog match."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from kefu.db import Order, Product, session_factory
from kefu.vocab import order_ids

_PLACE = re.compile(r"\{(order|product)(?::([^}]*)|\.(\w+))\}")
_WORD = re.compile(r"[a-z0-9\u4e00-\u9fff]+")


@dataclass
class ShopData:
    """Orders by status (handed out once each) and the catalog's titles for product look-ups."""

    orders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    products: list[tuple[str, set[str]]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, sql_url: str) -> ShopData:
        data = cls()
        with session_factory(sql_url)() as s:
            for o in s.execute(select(Order).order_by(Order.id.desc())).scalars():
                row = {"id": o.id, "email": o.email, "status": o.status, "carrier": o.carrier or "",
                       "tracking_number": o.tracking_number or "", "total": f"{o.total:.2f}",
                       "delivered_at": o.delivered_at.date().isoformat() if o.delivered_at else ""}
                data.orders.setdefault(o.status, []).append(row)
                data.orders.setdefault("any", []).append(row)
            for p in s.execute(select(Product)).scalars():
                words = set(_WORD.findall(f"{p.title} {p.category} {json.dumps(p.attributes, ensure_ascii=False)}"
                                          .lower()))
                data.products.append((p.id, words))
        return data

    def take_order(self, status: str) -> dict[str, Any]:
        for o in self.orders.get(status, []):
            if o["id"] not in self.taken:
                self.taken.add(o["id"])
                return o
        raise LookupError(f"no unused demo order with status {status!r} left")

    def missing_order(self) -> str:
        known = {o["id"] for o in self.orders.get("any", [])}
        example = order_ids().prefix + "999999" if order_ids().prefix else "999999999"
        return example if example not in known else example[:-1] + "8"

    def product(self, query: str) -> str:
        want = set(_WORD.findall(query.lower()))
        best = max(self.products, key=lambda p: (len(want & p[1]), -len(p[1])), default=("", set()))
        return best[0]


@dataclass
class Filled:
    """One conversation with its placeholders filled, and the order it uses (if any)."""

    turns: list[dict[str, Any]]
    order: dict[str, Any] | None = None
    orders: list[dict[str, Any]] = field(default_factory=list)


def _fill(value: Any, sub: Any) -> Any:
    if isinstance(value, str):
        return _PLACE.sub(sub, value)
    if isinstance(value, list):
        return [_fill(v, sub) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, sub) for k, v in value.items()}
    return value


REGEX_KEYS = ("reply_matches", "reply_not_matches", "harmful")


def fill(conv: dict[str, Any], shop: ShopData) -> Filled:
    """The shopper's words get the values as they are; the expectations' regexes get them escaped."""
    out = Filled([])

    def value(m: re.Match[str]) -> str:
        kind, arg, attr = m.group(1), m.group(2), m.group(3)
        if kind == "product":
            return shop.product(arg or "")
        if arg == "missing":
            return shop.missing_order()
        if arg is not None:
            out.order = shop.take_order(arg)
            out.orders.append(out.order)
            return str(out.order["id"])
        if out.order is None:
            raise LookupError(f"{{order.{attr}}} before any {{order:…}} in {conv.get('id')}")
        return str(out.order.get(attr or "") or "")

    def escaped(m: re.Match[str]) -> str:
        v = value(m)
        return re.escape(v) if v else "(?!)"  # a field the order lacks matches nothing

    for t in conv["turns"]:
        user = _fill(t["user"], value)  # first: the turn's own {order:…} comes before its expectations
        expect = {k: _fill(v, escaped if k in REGEX_KEYS else value) for k, v in (t.get("expect") or {}).items()}
        out.turns.append({**t, "user": user, "expect": expect})
    return out


def placeholders(text: str) -> Iterator[str]:
    for m in _PLACE.finditer(text):
        yield m.group(0)
