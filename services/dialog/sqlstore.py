"""The durable side: transcripts in SQL (conversations, messages) and product titles for references.

Synchronous SQLAlchemy on purpose; the async service calls these from a worker thread, off the
reply's critical path (the writer) or only when Redis lost a conversation (rebuild).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kefu.db import Conversation, MessageRow, Product, init_db, session_factory
from kefu.settings import Settings
from services.dialog.context import ProductInfo


def prepare_sql(settings: Settings) -> None:
    """The transcript tables exist (and a SQLite file's folder), before anything records a turn."""
    if settings.sql_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.sql_url)


def parse_ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Event:
    """One stream entry: a new conversation, a status change, or a turn's 1-2 messages."""

    entry_id: str
    kind: str
    cid: str
    seq: int
    status: str
    lang: str
    slots: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Restored:
    status: str
    lang: str
    slots: dict[str, Any]
    messages: list[dict[str, Any]]  # the tail, oldest first, each with "seq"
    max_seq: int


class TranscriptDB:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sessions: sessionmaker = session_factory(url)

    # ------------------------------------------------------------------ writer
    def write_events(self, events: Iterable[Event]) -> None:
        """One transaction for a batch; idempotent (a redelivered entry inserts nothing twice)."""
        events = list(events)
        for attempt in range(3):
            try:
                with self.sessions.begin() as s:
                    self._apply(s, events)
                return
            except IntegrityError:
                if attempt == 2:
                    raise  # a concurrent insert of the same conversation row; retry sees it

    def _apply(self, s: Session, events: list[Event]) -> None:
        convs: dict[str, Conversation] = {}
        by_cid: dict[str, list[Event]] = {}
        for ev in events:
            by_cid.setdefault(ev.cid, []).append(ev)
        for cid, evs in by_cid.items():
            conv = s.get(Conversation, cid)
            if conv is None:
                first = evs[0]
                conv = Conversation(id=cid, status=first.status, lang=first.lang, slots=first.slots)
                s.add(conv)
                s.flush()
            convs[cid] = conv
            seqs = [ev.seq + i for ev in evs if ev.kind == "turn" for i in range(len(ev.messages))]
            existing: set[int] = set()
            if seqs:
                existing = set(s.scalars(select(MessageRow.seq).where(
                    MessageRow.conversation_id == cid, MessageRow.seq.in_(seqs))))
            for ev in evs:
                conv.status = ev.status or conv.status
                conv.lang = ev.lang or conv.lang
                conv.slots = ev.slots
                conv.updated_at = datetime.now(UTC)
                for i, m in enumerate(ev.messages):
                    seq = ev.seq + i
                    if seq in existing:
                        continue
                    existing.add(seq)
                    s.add(MessageRow(
                        conversation_id=cid, seq=seq, message_id=str(m.get("message_id", ""))[:64],
                        role=m.get("role", "bot"), text=m.get("text") or "", intent=m.get("intent"),
                        confidence=m.get("confidence"), stage=m.get("stage"), slots=m.get("slots") or {},
                        products=m.get("products") or [], evidence=m.get("evidence") or {},
                        latency_ms=m.get("latency_ms"), created_at=parse_ts(m.get("created_at")),
                    ))

    # ------------------------------------------------------------------ readers
    def restore(self, cid: str, tail: int = 12) -> Restored | None:
        with self.sessions() as s:
            conv = s.get(Conversation, cid)
            if conv is None:
                return None
            rows = list(s.scalars(select(MessageRow).where(MessageRow.conversation_id == cid)
                                  .order_by(MessageRow.seq.desc()).limit(tail)))
            max_seq = s.scalar(select(func.max(MessageRow.seq)).where(MessageRow.conversation_id == cid)) or 0
            return Restored(status=conv.status or "bot", lang=conv.lang or "en", slots=dict(conv.slots or {}),
                            messages=[row_dict(r) for r in reversed(rows)], max_seq=int(max_seq))

    def transcript(self, cid: str) -> tuple[bool, list[dict[str, Any]]]:
        with self.sessions() as s:
            exists = s.get(Conversation, cid) is not None
            rows = s.scalars(select(MessageRow).where(MessageRow.conversation_id == cid)
                             .order_by(MessageRow.seq))
            return exists, [row_dict(r) for r in rows]

    def products(self, ids: list[str]) -> dict[str, ProductInfo]:
        if not ids:
            return {}
        with self.sessions() as s:
            rows = s.execute(select(Product.id, Product.title, Product.price, Product.attributes)
                             .where(Product.id.in_(ids)))
            out = {}
            for pid, title, price, attrs in rows:
                zh = (attrs or {}).get("title_zh") or ""
                out[pid] = ProductInfo(id=pid, title=title, title_zh=zh, price=price)
            return out


def row_dict(r: MessageRow) -> dict[str, Any]:
    return {
        "seq": r.seq, "role": r.role, "text": r.text, "created_at": iso(r.created_at), "message_id": r.message_id,
        "intent": r.intent, "confidence": r.confidence, "stage": r.stage, "slots": r.slots or {},
        "products": r.products or [], "evidence": r.evidence or {}, "latency_ms": r.latency_ms,
    }


class ProductCache:
    """Titles and prices of products shown in windows; the catalog rarely changes, so a short
    in-process cache keeps SQL off the resolve path. Products the gateway sends with a turn are
    remembered directly."""

    def __init__(self, db: TranscriptDB | None, ttl_s: float = 300.0, max_items: int = 20000) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[str, tuple[float, ProductInfo | None]] = {}

    def remember(self, infos: Iterable[ProductInfo]) -> None:
        now = time.monotonic()
        for p in infos:
            self._items[p.id] = (now, p)
        self._trim()

    def cached(self, ids: Iterable[str]) -> tuple[dict[str, ProductInfo], list[str]]:
        now = time.monotonic()
        hit: dict[str, ProductInfo] = {}
        miss: list[str] = []
        for pid in ids:
            entry = self._items.get(pid)
            if entry is None or now - entry[0] > self.ttl_s:
                miss.append(pid)
            elif entry[1] is not None:
                hit[pid] = entry[1]
        return hit, miss

    def fill(self, ids: list[str]) -> dict[str, ProductInfo]:
        """Look the missing ids up in SQL (blocking; call from a thread)."""
        found: dict[str, ProductInfo] = {}
        if self.db is not None and ids:
            try:
                found = self.db.products(ids)
            except Exception:  # no products table yet: references just stay unresolved
                found = {}
        now = time.monotonic()
        for pid in ids:
            self._items[pid] = (now, found.get(pid))
        self._trim()
        return found

    def _trim(self) -> None:
        if len(self._items) > self.max_items:
            for k in list(self._items)[: len(self._items) - self.max_items]:
                self._items.pop(k, None)
