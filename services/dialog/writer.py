"""The transcript writer: Redis Stream -> SQL, outside the reply's critical path.

Runs as a background task in the dialog service. Reads with a consumer group, commits a batch
in one SQL transaction, and only then XACKs (and XDELs, so the stream holds just the backlog)
and drops the read-your-writes copies. A writer that dies between read and commit leaves its
entries pending; on start, and every few seconds, entries idle longer than `claim_idle_ms` are
claimed (XAUTOCLAIM) and written again — the insert is idempotent on (conversation, seq).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from sqlalchemy.exc import InterfaceError, OperationalError

from kefu.redis_conn import is_cluster_client
from services.dialog.sqlstore import Event, TranscriptDB
from services.dialog.store import GROUP, DialogStore

log = logging.getLogger("kefu.dialog.writer")
MAX_FAILURES = 5
HEARTBEAT_TTL_S = 15


def parse_entry(entry_id: str, fields: dict[str, str]) -> Event:
    return Event(entry_id=entry_id, kind=fields.get("kind", "turn"), cid=fields["cid"],
                 seq=int(fields.get("seq", 0)), status=fields.get("status", "bot"), lang=fields.get("lang", "en"),
                 slots=orjson.loads(fields.get("slots") or "{}"), messages=orjson.loads(fields.get("data") or "[]"))


class TranscriptWriter:
    def __init__(self, store: DialogStore, db: TranscriptDB, *, consumer: str | None = None,
                 batch: int = 200, block_ms: int = 1000, claim_idle_ms: int = 15000,
                 linger_ms: int = 500) -> None:
        self.store = store
        self.db = db
        self.r = store.r
        # Stable per host: a restarted writer finds its predecessor's unacknowledged entries at
        # once (XREADGROUP from 0); entries of writers on other hosts are claimed after idling.
        self.consumer = consumer or f"dialog-{socket.gethostname()}"
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        # A small batch waits this long for company: one SQL transaction per turn cost ~2.2 ms
        # of CPU against ~0.4 ms per turn in a batch (measured, SQLite, 2 cores). Reads are not
        # delayed: the transcript endpoint merges entries still in the stream.
        self.linger_ms = linger_ms
        # When set, the writer publishes its progress there (a writer in its own process is
        # observed by the dialog service through Redis, not through shared memory).
        self.heartbeat_key: str | None = None
        self._beat_at = 0.0
        self.written = 0
        self.last_error: str | None = None
        self._failures: dict[str, int] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        # XREADGROUP blocks: the store's blocking pool, so other calls never queue behind it
        self.rb = store.rb

    async def ensure_group(self) -> None:
        for stream in self.store.streams:
            await self._ensure_group(stream)

    async def _ensure_group(self, stream: str) -> None:
        try:
            await self.r.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except aioredis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def start(self) -> asyncio.Task:
        self._task = asyncio.create_task(self.run(), name="dialog-transcript-writer")
        return self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def status(self) -> dict[str, Any]:
        """What /readyz reports of an in-process writer (a failing one: why, while its
        transcripts wait in the stream)."""
        detail: dict[str, Any] = {"running": self.running, "written": self.written}
        if self.last_error:
            detail["last_error"] = self.last_error
        return detail

    async def finish(self, timeout_s: float = 3.0) -> None:
        """Stop after the batch in hand is committed and acknowledged (or after `timeout_s`)."""
        self._stop.set()
        if self._task:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        await self.stop()

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def run(self) -> None:
        """One loop per shard's stream: each stream's entries stay in order, shards never wait
        on one another (on a Redis Cluster they live on different masters)."""
        streams = list(self.store.streams)
        # Before shards, one stream lived at P:stream (one Redis only): drain what an upgrade
        # left there, so no transcript waiting in it is lost.
        if not is_cluster_client(self.r) and await self.r.exists(self.store.legacy_stream):
            streams.append(self.store.legacy_stream)
        await asyncio.gather(*(self._run_stream(s) for s in streams))

    async def _run_stream(self, stream: str) -> None:
        last_claim = 0.0
        while not self._stop.is_set():
            try:
                await self._ensure_group(stream)
                # our own unacknowledged entries first (same consumer name after a crash-restart)
                await self._drain_own(stream)
                while not self._stop.is_set():
                    await self._heartbeat()
                    if time.monotonic() - last_claim > max(self.claim_idle_ms / 1000, 1.0):
                        await self.claim_stale(stream)
                        last_claim = time.monotonic()
                    resp = await self.rb.xreadgroup(GROUP, self.consumer, {stream: ">"},
                                                    count=self.batch, block=self.block_ms)
                    entries = [e for _stream, es in resp or [] for e in es]
                    if entries and len(entries) < self.batch and self.linger_ms > 0:
                        await asyncio.sleep(self.linger_ms / 1000)
                        more = await self.r.xreadgroup(GROUP, self.consumer, {stream: ">"},
                                                       count=self.batch - len(entries))
                        entries += [e for _stream, es in more or [] for e in es]
                    if entries:
                        await self.handle(entries, stream)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or SQL down: say so, back off, keep going
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("transcript writer error: %s", self.last_error)
                try:
                    await self._heartbeat(force=True)
                except Exception:  # Redis itself may be what is down
                    pass
                await asyncio.sleep(1.0)

    async def _heartbeat(self, force: bool = False) -> None:
        if self.heartbeat_key is None or (not force and time.monotonic() - self._beat_at < 1.0):
            return
        self._beat_at = time.monotonic()
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.heartbeat_key, mapping={"written": self.written, "last_error": self.last_error or "",
                                                   "pid": os.getpid(), "ts": time.time()})
            pipe.expire(self.heartbeat_key, HEARTBEAT_TTL_S)
            await pipe.execute()

    async def _drain_own(self, stream: str) -> None:
        while True:
            resp = await self.r.xreadgroup(GROUP, self.consumer, {stream: "0"}, count=self.batch)
            entries = resp[0][1] if resp else []
            if not entries:
                return
            if await self.handle(entries, stream) == 0:
                return  # nothing could be written now; the outer loop backs off and retries

    async def claim_stale(self, stream: str | None = None) -> int:
        """Take over entries another (dead) writer read but never acknowledged (in `stream`, or
        in every shard's)."""
        if stream is None:
            return sum([await self.claim_stale(s) for s in self.store.streams])
        claimed = 0
        start = "0-0"
        while True:
            res = await self.r.xautoclaim(stream, GROUP, self.consumer, self.claim_idle_ms,
                                          start_id=start, count=self.batch)
            nxt, entries = res[0], res[1]
            if entries:
                claimed += len(entries)
                await self.handle(entries, stream)
            if nxt in ("0-0", b"0-0"):
                break
            start = nxt
        return claimed

    async def handle(self, entries: list[tuple[str, dict[str, Any]]], stream: str | None = None) -> int:
        """Write and acknowledge entries read from `stream` (default: a one-shard store's only
        stream); returns how many entries were settled."""
        stream = stream or self.store.stream
        events = []
        gone = [eid for eid, fields in entries if not fields]
        if gone:  # deleted after a commit whose XACK was lost: already durable
            await self.r.xack(stream, GROUP, *gone)
        for eid, fields in entries:
            if not fields:
                continue
            try:
                events.append(parse_entry(eid, fields))
            except Exception as exc:  # malformed entry: park it rather than block the stream
                await self._dead_letter(eid, fields, f"parse: {exc}", stream)
        if not events:
            return len(gone)
        try:
            await asyncio.to_thread(self.db.write_events, events)
        except (OperationalError, InterfaceError):
            raise  # the database is unreachable: not the entries' fault; back off and retry
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            done = 0
            for ev in events:  # isolate the bad entry, commit the rest
                try:
                    await asyncio.to_thread(self.db.write_events, [ev])
                    await self._ack([ev], stream)
                    done += 1
                except (OperationalError, InterfaceError):
                    raise
                except Exception as one_exc:
                    await self._fail(ev, one_exc, stream)
            return done + len(gone)
        await self._ack(events, stream)
        return len(events) + len(gone)

    async def _ack(self, events: list[Event], stream: str) -> None:
        # one MULTI: the stream and these conversations' pending copies share the shard's slot
        async with self.r.pipeline(transaction=True) as pipe:
            ids = [e.entry_id for e in events]
            pipe.xack(stream, GROUP, *ids)
            pipe.xdel(stream, *ids)
            for ev in events:
                if ev.kind == "turn" and ev.messages:
                    pipe.hdel(self.store.k(ev.cid, ":p"), *[str(ev.seq + i) for i in range(len(ev.messages))])
            await pipe.execute()
        self.written += sum(len(e.messages) for e in events)
        self.last_error = None

    async def _fail(self, ev: Event, exc: Exception, stream: str) -> None:
        n = self._failures.get(ev.entry_id, 0) + 1
        self._failures[ev.entry_id] = n
        log.warning("transcript entry %s failed (%d/%d): %s", ev.entry_id, n, MAX_FAILURES, exc)
        if n >= MAX_FAILURES:
            await self._dead_letter(ev.entry_id, {"cid": ev.cid, "seq": str(ev.seq)}, str(exc), stream)
            self._failures.pop(ev.entry_id, None)

    async def _dead_letter(self, eid: str, fields: dict[str, Any], reason: str, stream: str) -> None:
        """Keep the entry (never silently dropped) in a dead-letter stream, then acknowledge it."""
        orig = await self.r.xrange(stream, eid, eid)
        data = dict(orig[0][1]) if orig else dict(fields)
        data["error"] = reason[:500]
        data["orig_id"] = eid
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.xadd(self.store.dead_of(stream), data)
            pipe.xack(stream, GROUP, eid)
            pipe.xdel(stream, eid)
            await pipe.execute()
        log.error("transcript entry %s moved to the dead-letter stream: %s", eid, reason)
