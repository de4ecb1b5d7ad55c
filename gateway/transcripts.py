"""Transcripts for shoppers and agents: from the dialog service (which owns the messages
table), falling back to the table itself when dialog is down, plus turns the gateway parked
in Redis while dialog was away — so nothing said is ever missing from a transcript."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from gateway.clients import Dependencies, DependencyDown, DependencyError
from kefu.db import MessageRow, session_factory

log = logging.getLogger("kefu.gateway.transcripts")

EVIDENCE_KEYS = ("intent", "confidence", "stage", "slots", "products", "evidence", "latency_ms")


def _ts(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def _normalise(m: dict[str, Any]) -> dict[str, Any] | None:
    role = m.get("role")
    text = m.get("text")
    if text is None:
        text = m.get("content", "")
    if role not in ("user", "bot", "agent"):
        return None
    out = {"role": role, "text": text or "", "created_at": _ts(m.get("created_at") or m.get("ts")),
           "message_id": m.get("message_id")}
    for k in EVIDENCE_KEYS:
        if m.get(k) not in (None, {}, []):
            out[k] = m[k]
    if "seq" in m:
        out["seq"] = m["seq"]
    return out


def turn_to_messages(t: dict[str, Any]) -> list[dict[str, Any]]:
    """A RecordTurnRequest as transcript messages (user, then bot/agent)."""
    out: list[dict[str, Any]] = []
    at = (t.get("evidence") or {}).get("at")
    if t.get("user_text"):
        out.append({"role": "user", "text": t["user_text"], "created_at": at, "message_id": t.get("message_id")})
    if t.get("reply_text"):
        msg = {"role": t.get("role", "bot"), "text": t["reply_text"], "created_at": at,
               "message_id": t.get("message_id")}
        for k in ("intent", "confidence", "stage", "slots", "products", "evidence", "latency_ms"):
            if t.get(k) not in (None, {}, []):
                msg[k] = t[k]
        out.append(msg)
    return out


class Transcripts:
    def __init__(self, deps: Dependencies, sql_url: str) -> None:
        self.deps = deps
        self.Session: sessionmaker = session_factory(sql_url)

    def _sql(self, cid: str) -> list[dict[str, Any]]:
        with self.Session() as s:
            q = select(MessageRow).where(MessageRow.conversation_id == cid).order_by(MessageRow.seq)
            rows = s.execute(q).scalars().all()
            return [{"role": r.role, "text": r.text, "created_at": r.created_at, "message_id": r.message_id,
                     "intent": r.intent, "confidence": r.confidence, "stage": r.stage, "slots": r.slots,
                     "products": r.products, "evidence": r.evidence, "latency_ms": r.latency_ms, "seq": r.seq}
                    for r in rows]

    async def fetch(self, cid: str, parked: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
        """(messages in order, degraded)."""
        degraded: list[str] = []
        try:
            data = await self.deps.transcript(cid)
            raw = data.get("messages", []) if isinstance(data, dict) else (data or [])
        except DependencyError as exc:
            if exc.status != 404:
                log.warning("dialog transcript refused: %s", exc.body)
            raw = []
        except DependencyDown:
            degraded.append("dialog")
            try:
                raw = await asyncio.to_thread(self._sql, cid)
            except Exception as exc:
                log.warning("transcript fallback failed: %s", exc)
                raw = []
        msgs = [m for m in (_normalise(x) for x in raw) if m is not None]
        seen = {(m.get("message_id"), m["role"]) for m in msgs}
        for t in parked:
            for m in turn_to_messages(t):
                if (m.get("message_id"), m["role"]) not in seen:
                    msgs.append(m)
        return msgs, degraded
