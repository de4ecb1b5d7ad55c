"""The product catalog in SQL: validation, import (CSV/JSONL), upsert, delete, listing.

SQL is the source of truth; the vector and lexical indexes are derived from it and can always be
rebuilt. Imports run one transaction per batch so a bad row never half-applies a batch: rows are
validated first, the rejected ones are listed with their reasons, the valid ones are written.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import Session

from kefu.db import Product, get_engine, utcnow

FIELDS = ("id", "title", "description", "category", "price", "currency", "stock", "url",
          "image_url", "brand", "attributes")
# Paging bounds: SQL drivers raise OverflowError past 64 bits, so an unbounded offset from a client
# was a 500 (and, through the gateway, a tripped breaker). No catalog page lies beyond these.
MAX_PAGE = 500
MAX_OFFSET = 1_000_000
MAX_LEN = {"id": 64, "title": 512, "category": 128, "brand": 128, "currency": 8, "url": 1024,
           "image_url": 1024}


class RowError(ValueError):
    """A row that cannot be stored; the message says why (shown in the import summary)."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"row": n, "id": ..., "reason": ...}
    seen: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.seen, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": len(self.rejected),
                "rejections": self.rejected[:1000]}


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _str_field(row: dict[str, Any], name: str, default: str = "") -> str:
    v = row.get(name)
    if _blank(v):
        return default
    if isinstance(v, (dict, list)):
        raise RowError(f"{name}: expected text, got {type(v).__name__}")
    s = str(v).strip() if name not in ("description",) else str(v)
    limit = MAX_LEN.get(name)
    if limit and len(s) > limit:
        raise RowError(f"{name}: longer than {limit} characters")
    if "\x00" in s:
        raise RowError(f"{name}: contains a NUL character")
    return s


def _price(v: Any) -> float | None:
    if _blank(v):
        return None
    try:
        p = float(str(v).replace(",", "").lstrip("$¥￥€£").strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        raise RowError(f"price: not a number ({str(v)[:40]!r})") from None
    if math.isnan(p) or math.isinf(p) or p < 0:
        raise RowError(f"price: must be a finite number >= 0 (got {v!r})")
    return p


def _stock(v: Any) -> int:
    if _blank(v):
        return 0
    try:
        s = float(v)
    except (TypeError, ValueError):
        raise RowError(f"stock: not an integer ({str(v)[:40]!r})") from None
    if not s.is_integer() or s < 0:
        raise RowError(f"stock: must be a whole number >= 0 (got {v!r})")
    return int(s)


def _attributes(v: Any) -> dict[str, Any]:
    """A JSON object, given as one or (from CSV) as its text."""
    if _blank(v):
        return {}
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except json.JSONDecodeError as exc:
            raise RowError(f"attributes: not valid JSON ({exc.msg})") from None
    if not isinstance(v, dict):
        raise RowError("attributes: must be a JSON object")
    return v


def validate_row(row: dict[str, Any]) -> dict[str, Any]:
    """Normalise one raw row (CSV strings or JSON values) into Product column values."""
    if not isinstance(row, dict):
        raise RowError("row is not an object")
    pid = _str_field(row, "id")
    if not pid:
        raise RowError("id: missing")
    title = _str_field(row, "title")
    if not title:
        raise RowError("title: missing")
    out: dict[str, Any] = {"id": pid, "title": title}
    for name in ("description", "category", "url", "image_url", "brand"):
        out[name] = _str_field(row, name)
    out["currency"] = (_str_field(row, "currency") or "USD").upper()
    out["price"] = _price(row.get("price"))
    out["stock"] = _stock(row.get("stock"))
    out["attributes"] = _attributes(row.get("attributes"))
    return out


def validate_batch(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(valid rows, rejections as {"index", "id", "reason"}): a batch is stored all or nothing, so
    the caller learns every bad row at once."""
    valid: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        try:
            valid.append(validate_row(row))
        except RowError as exc:
            rejected.append({"index": i, "id": row.get("id"), "reason": str(exc)})
    return valid, rejected


def _comparable(values: dict[str, Any]) -> tuple:
    return tuple(json.dumps(values.get(f), sort_keys=True, default=str) for f in FIELDS)


def _product_values(p: Product) -> dict[str, Any]:
    return {f: getattr(p, f) for f in FIELDS}


def upsert_products(session: Session, rows: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """Insert or update validated rows in the caller's transaction.

    Returns (added, updated, unchanged) ids. Unchanged rows keep their updated_at, so re-importing
    the same file does not make the index think everything changed.
    """
    by_id: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_id[r["id"]] = r  # last one wins inside a batch, as it would row by row
    existing = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(list(by_id))))}
    added, updated, unchanged = [], [], []
    now = utcnow()
    for pid, values in by_id.items():
        cur = existing.get(pid)
        if cur is None:
            session.add(Product(**values, updated_at=now))
            added.append(pid)
        elif _comparable(_product_values(cur)) == _comparable(values):
            unchanged.append(pid)
        else:
            for k, v in values.items():
                setattr(cur, k, v)
            cur.updated_at = now
            updated.append(pid)
    session.flush()
    return added, updated, unchanged


def delete_product(session: Session, pid: str) -> bool:
    res: Any = session.execute(delete(Product).where(Product.id == pid))  # a CursorResult: it has rowcount
    return bool(res.rowcount)


def get_product(session: Session, pid: str) -> Product | None:
    return session.get(Product, pid)


def list_products(session: Session, *, limit: int = 50, offset: int = 0,
                  category: str | None = None, ids: list[str] | None = None) -> tuple[list[Product], int]:
    """A page of the catalog; with `ids`, just those products in the order asked (unknown ids are
    left out), so a follow-up about three shown products is one request, not three."""
    if not (1 <= limit <= MAX_PAGE and 0 <= offset <= MAX_OFFSET):
        raise ValueError(f"limit must be 1..{MAX_PAGE} and offset 0..{MAX_OFFSET}")
    if ids is not None:
        found = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
        items = [found[i] for i in dict.fromkeys(ids) if i in found]
        return items, len(items)
    q = select(Product)
    cq = select(func.count()).select_from(Product)
    if category:
        q = q.where(func.lower(Product.category) == category.lower())
        cq = cq.where(func.lower(Product.category) == category.lower())
    total = session.scalar(cq) or 0
    items = list(session.scalars(q.order_by(Product.id).limit(limit).offset(offset)))
    return items, int(total)


def product_dict(p: Product) -> dict[str, Any]:
    d = _product_values(p)
    d["attributes"] = dict(p.attributes or {})
    d["updated_at"] = p.updated_at.isoformat() if isinstance(p.updated_at, datetime) else p.updated_at
    return d


def catalog_signature(session: Session) -> tuple[int, str]:
    """(count, max updated_at) — cheap to poll, changes whenever the catalog does."""
    n, latest = session.execute(select(func.count(Product.id), func.max(Product.updated_at))).one()
    return int(n or 0), (latest.isoformat() if isinstance(latest, datetime) else str(latest or ""))


# ------------------------------------------------------------------------------ reads for the index


def index_rows(engine: Engine, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """All products (or those `ids`) as plain dicts, for embedding and the filter columns. Core
    rows, not ORM objects: a third of the cost at 50k products."""
    t = Product.__table__
    cols = [t.c[name] for name in FIELDS]
    out: list[dict[str, Any]] = []
    with engine.connect() as c:
        chunks = [ids[i:i + 1000] for i in range(0, len(ids), 1000)] if ids is not None else [None]
        for chunk in chunks:
            q = select(*cols) if chunk is None else select(*cols).where(t.c.id.in_(chunk))
            out.extend({**r._mapping, "attributes": r.attributes or {}} for r in c.execute(q))
    return out


def rows_by_id(engine: Engine, pids: list[str]) -> dict[str, Row[Any]]:
    """Product rows keyed by id, for a page of search hits (Core rows: a third of the ORM's cost)."""
    if not pids:
        return {}
    t = Product.__table__
    with engine.connect() as c:
        return {r.id: r for r in c.execute(select(t).where(t.c.id.in_(pids)))}


def count_updated_since(engine: Engine, since: datetime) -> int:
    """Products changed after `since`: how far the index lags behind the catalog."""
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Product).where(Product.updated_at > since)) or 0)


# ------------------------------------------------------------------------------ file import


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield (line/row number, row or None, parse error) from a CSV or JSONL file."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, None, f"not valid JSON ({exc.msg})"
                    continue
                yield n, obj, ""
        return
    with path.open(encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        delim = "\t" if suffix == ".tsv" or (sample.count("\t") > sample.count(",")) else ","
        reader = csv.DictReader(fh, delimiter=delim)
        header = reader.fieldnames or []
        missing = [c for c in ("id", "title") if c not in header]
        if missing:
            raise RowError(f"{path.name}: header lacks required column(s) {', '.join(missing)}")
        for n, row in enumerate(reader, 2):
            if None in row:  # more cells than header columns
                yield n, None, "more cells than header columns"
                continue
            yield n, row, ""


def import_rows(engine: Engine, rows: Iterable[tuple[int, dict[str, Any] | None, str]], *,
                batch_size: int = 1000, progress: Callable[[ImportReport], None] | None = None
                ) -> ImportReport:
    report = ImportReport()
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not batch:
            return
        with Session(engine, expire_on_commit=False) as s, s.begin():
            a, u, same = upsert_products(s, [r for _, r in batch])
        report.added += len(a)
        report.updated += len(u)
        report.unchanged += len(same)
        batch.clear()
        if progress:
            progress(report)

    for n, raw, err in rows:
        report.seen += 1
        if raw is None:
            report.rejected.append({"row": n, "id": None, "reason": err})
            continue
        try:
            batch.append((n, validate_row(raw)))
        except RowError as exc:
            rid = raw.get("id") if isinstance(raw, dict) else None
            report.rejected.append({"row": n, "id": rid if not _blank(rid) else None, "reason": str(exc)})
        if len(batch) >= batch_size:
            flush()
    flush()
    return report


def import_file(sql_url: str, path: Path, *, batch_size: int = 1000, show_progress: bool = True,
                out: io.TextIOBase | TextIO | None = None) -> ImportReport:
    out = out or sys.stderr
    engine = get_engine(sql_url)

    def progress(r: ImportReport) -> None:
        if show_progress:
            print(f"[catalog import] {r.seen} rows read: {r.added} added, {r.updated} updated, "
                  f"{r.unchanged} unchanged, {len(r.rejected)} rejected", file=out, flush=True)

    return import_rows(engine, read_rows(path), batch_size=batch_size, progress=progress)
