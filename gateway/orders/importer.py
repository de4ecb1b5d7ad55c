"""Orders from a file into the built-in table: the demo shop's JSONL at build time, and
`kefu orders import --file F` (CSV or JSONL) for a shop without an order API. Each row is checked
on its own: a bad row is reported with its line number and skipped; the good rows are written in
one transaction (re-importing an id updates it)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kefu.db import Order, session_factory
from kefu.vocab import STATUSES, order_ids

DATE_FIELDS = ("created_at", "shipped_at", "delivered_at", "eta")


@dataclass
class ImportReport:
    written: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"line", "id", "reason"}


def _parse_dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO date: {value!r}") from exc


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, row or None, error) for every row of a CSV or JSONL file."""
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    yield n, None, "not valid JSON"
                    continue
                yield (n, row, "") if isinstance(row, dict) else (n, None, "not a JSON object")
        return
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), 2):
            if row.get("items"):
                try:
                    row["items"] = json.loads(row["items"])
                except ValueError:
                    yield n, None, "items is not a JSON list"
                    continue
            yield n, dict(row), ""


def order_from_row(r: dict[str, Any]) -> Order:
    """An Order from one row; ValueError says what is wrong with it."""
    oid = str(r.get("id") or "").strip()
    if not oid:
        raise ValueError("id is missing")
    if not order_ids().is_order_id(oid):
        raise ValueError(f"id {oid!r} does not match the shop's order-id pattern ({order_ids().pattern})")
    status = str(r.get("status") or "pending").strip().lower()
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    items = r.get("items") or []
    if not isinstance(items, list):
        raise ValueError("items must be a list")
    dates = {k: _parse_dt(r.get(k)) for k in DATE_FIELDS}
    return Order(id=oid.upper(), email=str(r.get("email") or ""), phone=str(r.get("phone") or ""),
                 postcode=str(r.get("postcode") or ""), status=status, items=items,
                 total=float(r.get("total") or 0.0), currency=str(r.get("currency") or "USD"),
                 carrier=r.get("carrier") or None, tracking_number=r.get("tracking_number") or None,
                 shipping_address=str(r.get("shipping_address") or ""),
                 created_at=dates["created_at"] or datetime.now().astimezone(), shipped_at=dates["shipped_at"],
                 delivered_at=dates["delivered_at"], eta=dates["eta"], refund_status=r.get("refund_status") or None)


def import_orders(sql_url: str, path: Path, *, only_if_empty: bool = False) -> ImportReport:
    """Upsert the file's orders; with `only_if_empty`, write nothing when the table has orders."""
    report = ImportReport()
    Session = session_factory(sql_url)
    with Session.begin() as s:
        if only_if_empty and s.execute(select(func.count()).select_from(Order)).scalar_one():
            return report
        for line, row, error in _rows(path):
            try:
                if row is None:
                    raise ValueError(error)
                s.merge(order_from_row(row))
                report.written += 1
            except (ValueError, TypeError) as exc:
                report.rejected.append({"line": line, "id": (row or {}).get("id"), "reason": str(exc)})
    return report
