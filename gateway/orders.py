"""Orders domain (no HTTP): look an order up, cancel it when its state allows, load the demo
orders. The orders table is the only source of order facts a reply may state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import sessionmaker

from kefu.db import Order, get_engine, session_factory
from kefu.vocab import CANCELLABLE


def _date(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def order_facts(o: Any) -> dict[str, Any]:
    """What a reply may state about an order (no email, no address: not needed to answer)."""
    return {
        "id": o.id,
        "status": o.status,
        "carrier": o.carrier,
        "tracking_number": o.tracking_number,
        "eta": _date(o.eta),
        "total": round(float(o.total or 0.0), 2),
        "currency": o.currency,
        "refund_status": o.refund_status,
        "created_at": _date(o.created_at),
        "shipped_at": _date(o.shipped_at),
        "delivered_at": _date(o.delivered_at),
        "items": [{"title": i.get("title"), "qty": i.get("qty"), "product_id": i.get("product_id")}
                  for i in (o.items or []) if isinstance(i, dict)],
    }


@dataclass
class CancelResult:
    cancelled: bool
    order: dict[str, Any] | None
    reason: str  # machine-readable: cancelled | already_cancelled | shipped | delivered | ... | not_found


class OrderStore:
    """Synchronous SQL access; the orchestrator runs it in a worker thread."""

    def __init__(self, sql_url: str) -> None:
        self.Session: sessionmaker = session_factory(sql_url)
        self.engine = get_engine(sql_url)
        self._by_id = select(Order.__table__).where(Order.__table__.c.id == bindparam("oid"))

    def lookup(self, order_id: str) -> dict[str, Any] | None:
        """A Core select (no ORM identity map/loading: ~5x cheaper per turn than Session.get)."""
        with self.engine.connect() as c:
            row = c.execute(self._by_id, {"oid": order_id.upper()}).mappings().first()
        return order_facts(SimpleNamespace(**row)) if row else None

    def cancel(self, order_id: str) -> CancelResult:
        """Cancel only pending/paid orders, atomically (row re-read inside the transaction)."""
        with self.Session.begin() as s:
            q = select(Order).where(Order.id == order_id.upper()).with_for_update()
            o = s.execute(q).scalar_one_or_none()
            if o is None:
                return CancelResult(False, None, "not_found")
            if o.status not in CANCELLABLE:
                reason = "already_cancelled" if o.status == "cancelled" else o.status
                return CancelResult(False, order_facts(o), reason)
            was_paid = o.status == "paid"
            o.status = "cancelled"
            if was_paid:
                o.refund_status = "pending"
            s.flush()
            return CancelResult(True, order_facts(o), "cancelled")

    def count(self) -> int:
        with self.Session() as s:
            return int(s.execute(select(func.count()).select_from(Order)).scalar_one())


def _parse_dt(value: Any) -> datetime | None:
    if not value:
        return None
    s = str(value).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        return None


def load_orders(sql_url: str, path: Path, *, only_if_empty: bool = True) -> int:
    """Upsert orders from JSONL; returns rows written (0 if the table had orders already)."""
    Session = session_factory(sql_url)
    with Session.begin() as s:
        if only_if_empty and s.execute(select(func.count()).select_from(Order)).scalar_one():
            return 0
        n = 0
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                s.merge(Order(
                    id=str(r["id"]).upper(), email=r.get("email") or "", status=r.get("status") or "pending",
                    items=r.get("items") or [], total=float(r.get("total") or 0.0),
                    currency=r.get("currency") or "USD", carrier=r.get("carrier"),
                    tracking_number=r.get("tracking_number"),
                    shipping_address=r.get("shipping_address") or "",
                    created_at=_parse_dt(r.get("created_at")) or datetime.now().astimezone(),
                    shipped_at=_parse_dt(r.get("shipped_at")), delivered_at=_parse_dt(r.get("delivered_at")),
                    eta=_parse_dt(r.get("eta")), refund_status=r.get("refund_status"),
                ))
                n += 1
        return n
