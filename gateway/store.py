"""The gateway's registry of conversations: token hash, status, language, last activity.

Redis answers the hot path (every request checks a token, every turn reads the status); SQL
(`conversations` table) keeps it durable, so a Redis flush costs a lookup, never a session.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from kefu.db import Conversation, session_factory

REDIS_TTL_S = 7 * 24 * 3600
STATUSES = ("bot", "pending_human", "human")


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class ConversationStore:
    def __init__(self, redis: Redis, prefix: str, sql_url: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.Session: sessionmaker = session_factory(sql_url)

    def key(self, cid: str) -> str:
        return self._key(cid)

    def _key(self, cid: str) -> str:
        return f"{self.prefix}gw:c:{cid}"

    @property
    def _index(self) -> str:
        return f"{self.prefix}gw:convs"

    # ----------------------------------------------------------------- SQL (threads)
    def _sql_create(self, cid: str, token_hash: str, lang: str, customer: str | None) -> None:
        with self.Session.begin() as s:
            s.add(Conversation(id=cid, token_hash=token_hash, status="bot", lang=lang, customer=customer))

    def _sql_get(self, cid: str) -> dict[str, Any] | None:
        with self.Session() as s:
            c = s.get(Conversation, cid)
            if c is None:
                return None
            return {"th": c.token_hash, "status": c.status, "lang": c.lang, "customer": c.customer or "",
                    "created": c.created_at.timestamp() if c.created_at else time.time(),
                    "updated": c.updated_at.timestamp() if c.updated_at else time.time()}

    def _sql_set_status(self, cid: str, status: str) -> None:
        with self.Session.begin() as s:
            s.execute(update(Conversation).where(Conversation.id == cid)
                      .values(status=status, updated_at=datetime.now(UTC)))

    def _sql_list(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        with self.Session() as s:
            q = select(Conversation).order_by(Conversation.updated_at.desc()).limit(limit)
            if status:
                q = q.where(Conversation.status == status)
            return [{"conversation_id": c.id, "id": c.id, "status": c.status, "lang": c.lang,
                     "created_at": c.created_at.timestamp(), "updated_at": c.updated_at.timestamp()}
                    for c in s.execute(q).scalars()]

    # ----------------------------------------------------------------- API
    async def create(self, cid: str, token_hash: str, lang: str, customer: str | None = None) -> None:
        """`customer`: the email of a shopper the shop signed in (their orders need no factor)."""
        now = time.time()
        try:
            await asyncio.to_thread(self._sql_create, cid, token_hash, lang, customer)
        except IntegrityError:
            pass  # the dialog service may have created the row first; token is set in Redis below
        try:
            await self._cache(cid, {"th": token_hash, "status": "bot", "lang": lang, "created": now,
                                    "updated": now, "customer": customer or ""})
        except Exception:
            pass  # Redis down: SQL holds the record, `get` reads it from there (and caches it later)

    async def _cache(self, cid: str, fields: dict[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        self.queue_cache(pipe, cid, fields)
        await pipe.execute()

    def queue_cache(self, pipe: Any, cid: str, fields: dict[str, Any]) -> None:
        pipe.hset(self._key(cid), mapping={k: str(v) for k, v in fields.items()})
        pipe.expire(self._key(cid), REDIS_TTL_S)
        pipe.zadd(self._index, {cid: float(fields.get("updated") or time.time())})

    @staticmethod
    def touch_fields(role: str, text: str, intent: str | None = None) -> dict[str, Any]:
        now = time.time()
        fields: dict[str, Any] = {"updated": now, "last_role": role, "last_text": text[:200], "last_at": now}
        if intent:
            fields["last_intent"] = intent
        return fields

    async def get(self, cid: str) -> dict[str, Any] | None:
        """Registry record (th, status, lang, ...) or None for an unknown conversation."""
        try:
            raw = await self.redis.hgetall(self._key(cid))
        except Exception:
            raw = {}
        if raw and "th" in raw:
            return {_s(k): _s(v) for k, v in raw.items()}
        rec = await asyncio.to_thread(self._sql_get, cid)
        if rec is None:
            return None
        try:
            await self._cache(cid, rec)
        except Exception:
            pass
        return {k: str(v) for k, v in rec.items()}

    async def status(self, cid: str) -> str:
        try:
            st = await self.redis.hget(self._key(cid), "status")
            if st:
                return _s(st)
        except Exception:
            pass
        rec = await self.get(cid)
        return (rec or {}).get("status", "bot")

    async def set_status(self, cid: str, status: str, reason: str | None = None) -> None:
        now = time.time()
        fields: dict[str, Any] = {"status": status, "updated": now}
        if reason is not None:
            fields["handoff_reason"] = reason
        await self._cache(cid, fields)
        await asyncio.to_thread(self._sql_set_status, cid, status)

    async def touch(self, cid: str, role: str, text: str, intent: str | None = None) -> None:
        try:
            await self._cache(cid, self.touch_fields(role, text, intent))
        except Exception:
            pass

    async def list(self, status: str | None, limit: int = 100) -> list[dict[str, Any]]:
        try:
            cids = [_s(c) for c in await self.redis.zrevrange(self._index, 0, max(limit * 5, 500) - 1)]
        except Exception:
            cids = []
        if not cids:
            return await asyncio.to_thread(self._sql_list, status, limit)
        pipe = self.redis.pipeline(transaction=False)
        for cid in cids:
            pipe.hgetall(self._key(cid))
        rows = await pipe.execute()
        out: list[dict[str, Any]] = []
        stale: list[str] = []
        for cid, raw in zip(cids, rows, strict=True):
            if not raw:
                stale.append(cid)
                continue
            rec = {_s(k): _s(v) for k, v in raw.items()}
            if status and rec.get("status") != status:
                continue
            out.append(public_record(cid, rec))
            if len(out) >= limit:
                break
        if stale:
            await self.redis.zrem(self._index, *stale)
        return out


def public_record(cid: str, rec: dict[str, Any]) -> dict[str, Any]:
    def f(name: str) -> float | None:
        try:
            return float(rec[name])
        except (KeyError, ValueError, TypeError):
            return None

    out: dict[str, Any] = {
        "conversation_id": cid, "id": cid, "status": rec.get("status", "bot"), "lang": rec.get("lang", "en"),
        "created_at": f("created"), "updated_at": f("updated"), "signed_in": bool(rec.get("customer")),
    }
    if rec.get("last_text") is not None:
        out["last_message"] = {"role": rec.get("last_role"), "text": rec.get("last_text"),
                               "created_at": f("last_at"), "intent": rec.get("last_intent")}
    if rec.get("handoff_reason"):
        out["handoff_reason"] = rec["handoff_reason"]
    return out
