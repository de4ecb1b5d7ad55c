"""Conversation state in Redis: the five-turn window, slots, status, the FIFO lock, the stream.

Every mutation is one Lua script (atomic, one round trip); the record path reads the state,
computes the new slots in Python and commits with a version check (compare-and-set), so two
writers can never interleave even without the lock. Nothing here waits on SQL except the rare
rebuild of a conversation Redis has lost.
"""

from __future__ import annotations

import asyncio
import heapq
import re
import time
import uuid
import zlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis

from kefu.errors import APIError
from kefu.redis_conn import async_client, is_cluster
from kefu.settings import Settings
from services.dialog import context as ctx
from services.dialog import lua
from services.dialog.sqlstore import ProductCache, TranscriptDB, iso

CID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
WINDOW = 5
TEXT_CAP = 200  # characters of each side kept in the window; SQL keeps the whole text
GROUP = "sqlwriter"


def check_cid(cid: str) -> str:
    if not CID_RE.match(cid or ""):
        raise APIError(422, "invalid_conversation_id", "conversation id must match [A-Za-z0-9_-]{1,64}")
    return cid


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class State:
    cid: str
    status: str = "bot"
    lang: str = "en"
    topic: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    version: str = "1"
    updated: float = 0.0
    turns: list[dict[str, Any]] = field(default_factory=list)  # compact window entries
    restored: bool = False

    def window(self) -> list[ctx.WindowTurn]:
        return [ctx.WindowTurn(user=t.get("u", ""), bot=t.get("b", ""), products=t.get("p", []),
                               intent=t.get("i")) for t in self.turns]

    def public(self) -> dict[str, Any]:
        return {
            "conversation_id": self.cid, "status": self.status, "lang": self.lang, "slots": self.slots,
            "turns": [{"message_id": t.get("m", ""), "user": t.get("u", ""), "bot": t.get("b", ""),
                       "role": t.get("r", "bot"), "intent": t.get("i"), "products": t.get("p", []),
                       "ts": t.get("t", 0.0)} for t in self.turns],
            "topic": self.topic, "seq": self.seq,
            "updated_at": iso(datetime.fromtimestamp(self.updated, UTC)) if self.updated else None,
            "restored": self.restored,
        }


def _infer_topic(slots: dict[str, Any]) -> str | None:
    if slots.get("query") or slots.get("product_id"):
        return "product"
    if slots.get("order_id"):
        return "order"
    return None


def turns_from_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pair a transcript tail back into window turns (user + reply; an agent message alone)."""
    turns: list[dict[str, Any]] = []
    pending_user: dict[str, Any] | None = None
    for m in messages:
        if m["role"] == "user":
            pending_user = m
            continue
        u = pending_user["text"] if pending_user else ""
        turns.append({"m": m.get("message_id", ""), "u": u[:TEXT_CAP], "b": (m.get("text") or "")[:TEXT_CAP],
                      "r": m["role"], "i": (pending_user or {}).get("intent") or m.get("intent"),
                      "p": [p if isinstance(p, str) else p.get("id") for p in (m.get("products") or [])],
                      "t": _ts(m.get("created_at")), "s": m.get("seq", 0)})
        pending_user = None
    return turns[-WINDOW:]


def _ts(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def window_entry(req: Any, seq: int, now: float) -> dict[str, Any]:
    """A recorded turn as the window keeps it: both sides capped, seq of its last message."""
    return {"m": req.message_id, "u": (req.user_text or "")[:TEXT_CAP], "b": req.reply_text[:TEXT_CAP],
            "r": req.role, "i": req.intent, "p": list(req.products or []), "t": round(now, 3),
            "s": seq + (2 if req.user_text is not None else 1)}


def turn_messages(req: Any, slots: dict[str, Any], created: str) -> list[dict[str, Any]]:
    """The transcript rows of a turn: the user's message (if any), then the reply."""
    msgs = []
    if req.user_text is not None:
        msgs.append({"role": "user", "text": req.user_text, "message_id": req.message_id,
                     "intent": req.intent, "confidence": req.confidence, "stage": req.stage,
                     "slots": slots, "products": [], "evidence": {}, "latency_ms": None,
                     "created_at": created})
    msgs.append({"role": req.role, "text": req.reply_text, "message_id": req.message_id,
                 "intent": req.intent if req.role == "bot" else None,
                 "confidence": None, "stage": None, "slots": slots, "products": list(req.products or []),
                 "evidence": req.evidence or {}, "latency_ms": req.latency_ms, "created_at": created})
    return msgs


class LockTimeout(APIError):
    def __init__(self, wait_ms: int) -> None:
        super().__init__(409, "lock_timeout", f"conversation is busy; no lock within {wait_ms} ms",
                         headers={"Retry-After": "1"})


class DialogStore:
    """Keys live in `shards` hash-slot groups: a conversation's keys carry the tag of its shard
    (`{s3}`), and so do that shard's transcript stream and activity index, so every script and
    transaction touches one slot and runs unchanged on a Redis Cluster. One shard on one Redis;
    on a Cluster enough shards that the streams spread over the masters (lua.py lists the keys)."""

    def __init__(self, redis_url: str, prefix: str, ttl_s: int, db: TranscriptDB | None,
                 window: int = WINDOW, shards: int = 0) -> None:
        self.p = f"{prefix}dlg:"
        self.ttl_s = ttl_s
        self.window_cap = window
        self.shards = shards if shards > 0 else (16 if is_cluster(redis_url) else 1)
        self.r = async_client(redis_url, decode_responses=True, socket_timeout=5,
                              socket_connect_timeout=2, max_connections=256)
        # Blocking waits (BLPOP) each hold a connection: a separate, larger pool without a
        # socket timeout shorter than the wait.
        self.rb = async_client(redis_url, decode_responses=True, socket_timeout=None,
                               socket_connect_timeout=2, max_connections=2048)
        self.db = db
        self.products = ProductCache(db)
        self.streams = [self._tag(i) + "stream" for i in range(self.shards)]
        self.actives = [self._tag(i) + "active" for i in range(self.shards)]
        self._acquire = self.r.register_script(lua.ACQUIRE)
        self._release = self.r.register_script(lua.RELEASE)
        self._promote = self.r.register_script(lua.PROMOTE)
        self._cancel = self.r.register_script(lua.CANCEL)
        self._record = self.r.register_script(lua.RECORD)
        self._create = self.r.register_script(lua.CREATE)
        self._status = self.r.register_script(lua.SET_STATUS)

    @classmethod
    def from_settings(cls, settings: Settings, db: TranscriptDB | None) -> DialogStore:
        return cls(settings.redis_url, settings.redis_prefix, settings.conversation_ttl_s, db,
                   shards=settings.redis_shards)

    async def close(self) -> None:
        await self.r.aclose()
        await self.rb.aclose()

    # ------------------------------------------------------------------ keys
    def _tag(self, shard: int) -> str:
        return f"{self.p}{{s{shard}}}:"

    def shard(self, cid: str) -> int:
        return zlib.crc32(cid.encode()) % self.shards if self.shards > 1 else 0

    def k(self, cid: str, suffix: str = "") -> str:
        return f"{self._tag(self.shard(cid))}c:{cid}{suffix}"

    def stream_of(self, cid: str) -> str:
        return self.streams[self.shard(cid)]

    def active_of(self, cid: str) -> str:
        return self.actives[self.shard(cid)]

    def dead_of(self, stream: str) -> str:
        """The dead-letter stream beside `stream` (same slot, so parking an entry is one MULTI)."""
        return stream[: -len("stream")] + "dead"

    @property
    def stream(self) -> str:
        """The only stream of a one-shard store (tests and tools of a single Redis)."""
        return self.streams[0]

    @property
    def legacy_stream(self) -> str:
        """Where the one stream lived before shards (drained by the writer after an upgrade)."""
        return self.p + "stream"

    def wake_prefix(self, cid: str) -> str:
        return self._tag(self.shard(cid)) + "wake:"

    # ------------------------------------------------------------------ load / rebuild
    async def _load_raw(self, cid: str) -> State | None:
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.k(cid))
            pipe.lrange(self.k(cid, ":w"), 0, -1)
            h, w = await pipe.execute()
        if not h:
            return None
        slots = orjson.loads(h.get("slots") or "{}")
        return State(cid=cid, status=h.get("status", "bot"), lang=h.get("lang", "en"),
                     topic=h.get("topic") or None, slots=slots, seq=int(h.get("seq", 0)),
                     version=h.get("v", "1"), updated=float(h.get("updated") or 0),
                     turns=[orjson.loads(x) for x in w])

    async def load(self, cid: str) -> State | None:
        """The state, rebuilt from SQL (plus not-yet-written turns) if Redis lost it."""
        st = await self._load_raw(cid)
        if st is not None:
            return st
        return await self.rebuild(cid)

    async def rebuild(self, cid: str) -> State | None:
        pending = await self._pending(cid)
        restored = await asyncio.to_thread(self.db.restore, cid) if self.db else None
        if restored is None and not pending:
            return None
        msgs = list(restored.messages) if restored else []
        seen = {m["seq"] for m in msgs}
        msgs += [m for m in pending if m["seq"] not in seen]
        msgs.sort(key=lambda m: m["seq"])
        max_seq = max([restored.max_seq if restored else 0] + [m["seq"] for m in msgs])
        slots = restored.slots if restored else (pending[-1].get("slots") or {})
        status = restored.status if restored else "bot"
        lang = restored.lang if restored else "en"
        turns = turns_from_messages(msgs)
        last = msgs[-1] if msgs else None
        now = time.time()
        await self._create(
            keys=[self.k(cid), self.k(cid, ":w"), self.stream_of(cid), self.active_of(cid), self.k(cid, ":lf")],
            args=[cid, self.ttl_s, status, lang, orjson.dumps(slots).decode(), _infer_topic(slots) or "",
                  max_seq, now, (last or {}).get("text", "")[:TEXT_CAP], (last or {}).get("role", ""), "0",
                  len(turns), *[orjson.dumps(t).decode() for t in turns]],
        )
        st = await self._load_raw(cid)
        if st is not None:
            st.restored = True
        return st

    async def _pending(self, cid: str) -> list[dict[str, Any]]:
        raw = await self.r.hgetall(self.k(cid, ":p"))
        out = []
        for seq, val in raw.items():
            m = orjson.loads(val)
            m["seq"] = int(seq)
            out.append(m)
        out.sort(key=lambda m: m["seq"])
        return out

    # ------------------------------------------------------------------ create / status
    async def create(self, cid: str | None, lang: str = "en", *, fresh: bool = False) -> tuple[State, bool]:
        """`fresh`: the id was just generated, so there is no SQL history to rebuild from (the
        Lua create still never overwrites a conversation Redis holds)."""
        cid = check_cid(cid) if cid else uuid.uuid4().hex
        existing = None if fresh else await self.load(cid)
        if existing is not None:
            return existing, False
        now = time.time()
        created = await self._create(
            keys=[self.k(cid), self.k(cid, ":w"), self.stream_of(cid), self.active_of(cid), self.k(cid, ":lf")],
            args=[cid, self.ttl_s, "bot", lang, "{}", "", 0, now, "", "", "1", 0],
        )
        st = await self._load_raw(cid)
        assert st is not None
        return st, bool(created)

    async def set_status(self, cid: str, status: str) -> State:
        for _ in range(3):
            res = await self._status(keys=[self.k(cid), self.k(cid, ":w"), self.stream_of(cid), self.active_of(cid)],
                                     args=[cid, status, self.ttl_s, time.time()])
            if res == 1:
                break
            if await self.rebuild(cid) is None:
                raise APIError(404, "not_found", f"unknown conversation {cid}")
        st = await self._load_raw(cid)
        if st is None:
            raise APIError(404, "not_found", f"unknown conversation {cid}")
        return st

    # ------------------------------------------------------------------ resolve / record
    async def product_info(self, st: State, extra: list[str] | None = None) -> dict[str, ctx.ProductInfo]:
        ids = list(dict.fromkeys([p for t in st.turns for p in t.get("p", [])] + (extra or [])))
        if st.slots.get("product_id"):
            ids.append(st.slots["product_id"])
        hit, miss = self.products.cached(ids)
        if miss:
            hit.update(await asyncio.to_thread(self.products.fill, miss))
        return hit

    async def resolve(self, cid: str, text: str) -> tuple[ctx.Resolution, State]:
        st = await self.load(cid)
        if st is None:
            raise APIError(404, "not_found", f"unknown conversation {cid}")
        info = await self.product_info(st)
        res = ctx.resolve(text, st.window(), st.slots, st.topic, info)
        return res, st

    async def record(self, cid: str, req: Any, product_details: list[ctx.ProductInfo] | None = None
                     ) -> dict[str, Any]:
        """Append a turn (user message + reply, or an agent message) atomically; returns seqs."""
        if product_details:
            self.products.remember(product_details)
        for _attempt in range(200):
            st = await self._load_raw(cid)
            if st is None:
                st = await self.rebuild(cid)
                if st is None:
                    raise APIError(404, "not_found", f"unknown conversation {cid}")
            for t in st.turns:
                if req.message_id and t.get("m") == req.message_id and t.get("r") == req.role:
                    return {"seq": t.get("s", st.seq), "duplicate": True}
            slots, topic = await self._slots_after(st, req)
            now = time.time()
            entry = window_entry(req, st.seq, now)
            msgs = turn_messages(req, slots, now_iso())
            slots_json = orjson.dumps(slots).decode()
            result = await self._record(
                keys=[self.k(cid), self.k(cid, ":w"), self.k(cid, ":p"), self.k(cid, ":lf"),
                      self.stream_of(cid), self.active_of(cid)],
                args=[cid, st.version, "" if req.fence is None else int(req.fence), self.ttl_s, self.window_cap,
                      orjson.dumps(entry).decode(), slots_json, topic or "", now,
                      req.reply_text[:TEXT_CAP], req.role, orjson.dumps(msgs).decode(), len(msgs),
                      *[orjson.dumps(m).decode() for m in msgs]],
            )
            code = int(result[0])
            if code == -2:
                raise APIError(409, "stale_fence",
                               f"fence {req.fence} is older than the lock's current fence {result[1]}")
            if code in (-1, -3):
                continue  # lost meanwhile (rebuild) or a concurrent writer won: read again
            return {"seq": code, "first_seq": int(result[1]), "slots": slots}
        raise APIError(503, "contention", "conversation state kept changing; retry")

    async def _slots_after(self, st: State, req: Any) -> tuple[dict[str, Any], str | None]:
        """The slots and topic once this turn is recorded: the user's message resolved against
        the state, then the caller's explicit edits (a None value removes the slot)."""
        slots, topic = dict(st.slots), st.topic
        if req.user_text:
            info = await self.product_info(st)
            res = ctx.resolve(req.user_text, st.window(), st.slots, st.topic, info)
            slots, topic = res.slots, res.topic
        for key, val in (req.slots or {}).items():
            if val is None:
                slots.pop(key, None)
            else:
                slots[key] = val
        return slots, topic

    # ------------------------------------------------------------------ transcript / listing
    async def transcript(self, cid: str) -> list[dict[str, Any]]:
        """SQL rows plus turns still waiting in the stream (read the pending hash first, so an
        entry the writer commits meanwhile is found in one place or the other)."""
        pending = await self._pending(cid)
        exists_redis = await self.r.exists(self.k(cid))
        exists_sql, rows = (await asyncio.to_thread(self.db.transcript, cid)) if self.db else (False, [])
        if not (exists_redis or exists_sql or pending):
            raise APIError(404, "not_found", f"unknown conversation {cid}")
        seen = {m["seq"] for m in rows}
        rows += [m for m in pending if m["seq"] not in seen]
        rows.sort(key=lambda m: m["seq"])
        return rows

    async def _newest_first(self, page: int) -> AsyncIterator[str]:
        """Conversation ids of every shard's activity index, newest first: a k-way merge that
        reads each index a page at a time."""
        bufs: list[deque[tuple[str, float]]] = [deque() for _ in range(self.shards)]
        offsets = [0] * self.shards
        exhausted = [False] * self.shards
        heap: list[tuple[float, int, str]] = []

        async def take(i: int) -> None:
            if not bufs[i] and not exhausted[i]:
                rows = await self.r.zrevrange(self.actives[i], offsets[i], offsets[i] + page - 1, withscores=True)
                offsets[i] += page
                exhausted[i] = len(rows) < page
                bufs[i].extend((c, float(sc)) for c, sc in rows)
            if bufs[i]:
                cid, score = bufs[i].popleft()
                heapq.heappush(heap, (-score, i, cid))

        for i in range(self.shards):
            await take(i)
        while heap:
            _, i, cid = heapq.heappop(heap)
            yield cid
            await take(i)

    async def list_active(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        now = time.time()
        for active in self.actives:
            await self.r.zremrangebyscore(active, "-inf", now - self.ttl_s)
        out: list[dict[str, Any]] = []
        page = max(limit * 2, 50)
        batch: list[str] = []
        ids = self._newest_first(page)
        done = False
        while len(out) < limit and not done:
            batch = []
            async for c in ids:
                batch.append(c)
                if len(batch) >= page:
                    break
            else:
                done = True
            if not batch:
                break
            async with self.r.pipeline(transaction=False) as pipe:
                for c in batch:
                    pipe.hmget(self.k(c), "status", "last_text", "last_role", "updated", "lang", "turns")
                rows = await pipe.execute()
            gone = []
            for c, (st, text, role, upd, lang, turns) in zip(batch, rows, strict=True):
                if st is None:
                    gone.append(c)
                    continue
                if status and st != status:
                    continue
                out.append({"conversation_id": c, "status": st, "lang": lang or "en",
                            "last_message": {"role": role or None, "text": text or ""} if text else None,
                            "turns": int(turns or 0),
                            "updated_at": iso(datetime.fromtimestamp(float(upd or 0), UTC))})
                if len(out) >= limit:
                    break
            for c in gone:
                await self.r.zrem(self.active_of(c), c)
        return out

    async def memory_usage(self, cid: str) -> int:
        total = 0
        for key in (self.k(cid), self.k(cid, ":w"), self.k(cid, ":lf")):
            total += int(await self.r.memory_usage(key) or 0)
        return total

    # ------------------------------------------------------------------ the FIFO lock
    async def lock(self, cid: str, ttl_ms: int, wait_ms: int) -> tuple[str, int]:
        """FIFO per conversation: a waiter blocks on its own wake key (no polling); it only
        re-checks when the current holder's lease would have expired (a crashed holder)."""
        lease = uuid.uuid4().hex
        keys = [self.k(cid, ":lock"), self.k(cid, ":q"), self.k(cid, ":lf")]
        wake = self.wake_prefix(cid) + lease
        wake_ttl = max(wait_ms + ttl_ms, 1000) + 60000
        res = await self._acquire(keys=keys, args=[lease, ttl_ms, wait_ms + ttl_ms + 60000])
        if int(res[0]) == 1:
            return lease, int(res[1])
        holder_pttl = int(res[1])
        deadline = time.monotonic() + wait_ms / 1000
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                slice_s = remaining if holder_pttl < 0 else min(remaining, holder_pttl / 1000 + 0.02)
                slice_s = max(slice_s, 0.01)
                got = await self.rb.blpop([wake], timeout=slice_s)
                if got:
                    return lease, int(got[1])
                pr = await self._promote(keys=keys, args=[self.wake_prefix(cid), wake_ttl])
                holder_pttl = int(pr[1]) if int(pr[0]) == 0 else 0
            # one last non-blocking look: the grant may have landed just now
            got = await self.r.lpop(wake)
            if got:
                return lease, int(got)
        except asyncio.CancelledError:
            await asyncio.shield(self._cancel(keys=[*keys, wake],
                                              args=[lease, ttl_ms, self.wake_prefix(cid), wake_ttl]))
            raise
        await self._cancel(keys=[*keys, wake], args=[lease, ttl_ms, self.wake_prefix(cid), wake_ttl])
        raise LockTimeout(wait_ms)

    async def unlock(self, cid: str, lease: str) -> bool:
        res = await self._release(keys=[self.k(cid, ":lock"), self.k(cid, ":q"), self.k(cid, ":lf")],
                                  args=[lease, self.wake_prefix(cid), 120000])
        return bool(res)

    # ------------------------------------------------------------------ health
    async def stream_stats(self) -> dict[str, Any]:
        """Backlog and pending entries summed over the shards' streams; lag of the oldest."""
        length = pending = 0
        lag_s = 0.0
        for stream in self.streams:
            n = await self.r.xlen(stream)
            length += n
            try:
                groups = await self.r.xinfo_groups(stream)
                for g in groups:
                    if g.get("name") == GROUP:
                        pending += int(g.get("pending", 0))
            except aioredis.ResponseError:
                pass
            if n:
                first = await self.r.xrange(stream, count=1)
                if first:
                    ms = int(first[0][0].split("-")[0])
                    lag_s = max(lag_s, time.time() - ms / 1000)
        return {"stream_backlog": length, "writer_pending": pending, "writer_lag_s": round(lag_s, 3)}
