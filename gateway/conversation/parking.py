"""Turns the gateway answered but could not hand to dialog, spooled durably in SQL and handed over
in order once dialog (and its Redis) is back.

Why SQL and not Redis or a local file: the turn must outlive the very outage that made dialog
refuse it, and Redis is usually that outage (dialog keeps its state there). The gateway already
holds a SQL database, shared by every gateway process and surviving a pod that is rescheduled
(a local spool file would die with an ephemeral disk and be invisible to the other replicas and
to the transcript endpoint they serve). The spool table is the only write on this path, one
indexed insert per degraded turn.

Exactly once, in order: rows are keyed (conversation, message id, role) so a retried park is a
no-op; they are replayed oldest first (`id`) under both the conversation's local lock and
dialog's fenced lease, and a row is deleted only after dialog accepted it (dialog ignores a
message id its window already holds, so a replay interrupted between the two is harmless). A
conversation with spooled turns spools its next turns behind them until the spool is empty, so
a live turn never overtakes a parked one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from prometheus_client import Counter, Gauge
from redis.asyncio import Redis
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import sessionmaker

from gateway.clients import Dependencies, DependencyDown, DependencyError
from gateway.conversation.locks import LocalLocks
from kefu.contracts import RecordTurnRequest
from kefu.db import SpooledTurn, session_factory

log = logging.getLogger("kefu.gateway.parking")

MARK_TTL_S = 7 * 24 * 3600
REPLAY_EVERY_S = 1.0
REPLAY_PARALLEL = 8

SPOOLED = Gauge("kefu_gateway_spooled_turns", "answered turns waiting in the SQL spool for dialog")
SPOOL_EVENTS = Counter("kefu_gateway_spool_events_total", "turns spooled, replayed to dialog or refused",
                       ["event"])
REPLAY_SECONDS = Gauge("kefu_gateway_spool_last_replay_seconds",
                       "time from the first spooled turn of an outage to an empty spool")


class SpoolBusy(Exception):
    """Dialog could not take a spooled turn now; the rest of that conversation's spool waits."""


class ParkedTurns:
    def __init__(self, redis: Redis, prefix: str, deps: Dependencies, sql_url: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.deps = deps
        self.Session: sessionmaker = session_factory(sql_url)
        self._dialect = self.Session.kw["bind"].dialect.name
        self._cids: set[str] = set()  # conversations with spooled turns (this process's view)
        self._count = 0
        self._since: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._progress = False  # the last round handed something over (go again at once)
        self.locks: LocalLocks | None = None

    def key(self, cid: str) -> str:
        """Redis marker telling every gateway process that `cid` has spooled turns."""
        return f"{self.prefix}gw:spooled:{cid}"

    def has(self, cid: str) -> bool:
        return cid in self._cids

    @property
    def count(self) -> int:
        return self._count

    # ----------------------------------------------------------------- SQL (threads)
    def _sql_park(self, cid: str, req: RecordTurnRequest) -> bool:
        """True if the turn is new to the spool (a retried park inserts nothing)."""
        ins = pg_insert if self._dialect == "postgresql" else sqlite_insert
        stmt = ins(SpooledTurn).values(conversation_id=cid, message_id=req.message_id, role=req.role,
                                       payload=req.model_dump(mode="json", exclude={"fence"}))
        with self.Session.begin() as s:
            return bool(s.execute(stmt.on_conflict_do_nothing()).rowcount)

    def _sql_rows(self, cid: str) -> list[tuple[int, dict[str, Any]]]:
        with self.Session() as s:
            q = select(SpooledTurn.id, SpooledTurn.payload).where(SpooledTurn.conversation_id == cid) \
                .order_by(SpooledTurn.id)
            return [(int(i), dict(p)) for i, p in s.execute(q)]

    def _sql_delete(self, row_id: int) -> None:
        with self.Session.begin() as s:
            s.execute(delete(SpooledTurn).where(SpooledTurn.id == row_id))

    def _sql_overview(self) -> tuple[int, list[str]]:
        """(spooled turns, conversations oldest first)."""
        with self.Session() as s:
            n = s.scalar(select(func.count()).select_from(SpooledTurn)) or 0
            q = select(SpooledTurn.conversation_id, func.min(SpooledTurn.id).label("first")) \
                .group_by(SpooledTurn.conversation_id).order_by("first")
            return int(n), [c for c, _ in s.execute(q)]

    # ----------------------------------------------------------------- API
    async def park(self, cid: str, req: RecordTurnRequest) -> None:
        """Dialog could not take the turn: keep it in SQL and hand it over when dialog is back."""
        req = req.model_copy(update={"evidence": {**req.evidence, "at": req.evidence.get("at") or time.time()}})
        try:
            new = await asyncio.to_thread(self._sql_park, cid, req)
        except Exception as exc:
            SPOOL_EVENTS.labels("lost").inc()
            log.error("turn %s lost: dialog and the SQL spool both failed (%s)", req.message_id, exc)
            return
        if not self._cids and self._since is None:
            self._since = time.monotonic()
        self._cids.add(cid)
        if new:
            SPOOL_EVENTS.labels("spooled").inc()
            self._count += 1
        SPOOLED.set(self._count)
        with contextlib.suppress(Exception):
            await self.redis.set(self.key(cid), "1", ex=MARK_TTL_S)
        self._wake.set()

    async def pending(self, cid: str) -> list[dict[str, Any]]:
        """The conversation's spooled turns, oldest first (for transcripts)."""
        try:
            return [p for _, p in await asyncio.to_thread(self._sql_rows, cid)]
        except Exception as exc:
            log.warning("spool unreadable for %s: %s", cid, exc)
            return []

    async def flush(self, cid: str, fence: int | None) -> None:
        """Hand every spooled turn to dialog, oldest first, under the caller's lease. Raises
        (DependencyDown, SpoolBusy) when dialog cannot take one now: the rest stays spooled."""
        rows = await asyncio.to_thread(self._sql_rows, cid)
        for row_id, payload in rows:
            req = RecordTurnRequest.model_validate(payload)
            req.fence = fence
            await self._hand_over(cid, req)
            await asyncio.to_thread(self._sql_delete, row_id)
            SPOOL_EVENTS.labels("replayed").inc()
            self._count = max(0, self._count - 1)
            SPOOLED.set(self._count)
        self._cids.discard(cid)
        with contextlib.suppress(Exception):
            await self.redis.delete(self.key(cid))

    async def _hand_over(self, cid: str, req: RecordTurnRequest) -> None:
        for attempt in range(2):
            try:
                await self.deps.record(cid, req)
                return
            except DependencyError as exc:
                if exc.status == 404 and attempt == 0:  # created while dialog was away
                    lang = str((req.evidence or {}).get("lang") or "en")
                    await self.deps.create_conversation(cid, lang)
                    continue
                if exc.status in (404, 409, 429):
                    raise SpoolBusy(f"dialog answered {exc.status}") from exc
                # 422: dialog will never take this turn; keep it visible in the log, not in the way
                SPOOL_EVENTS.labels("refused").inc()
                log.error("dialog refused spooled turn %s of %s for good: %s", req.message_id, cid, exc.body)
                return

    # ----------------------------------------------------------------- replayer
    def start(self, locks: LocalLocks) -> None:
        self.locks = locks
        self._task = asyncio.create_task(self._run(), name="gateway-spool-replayer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        """Replay in the background: at start (turns spooled before a restart) and every second
        while anything is spooled, conversation by conversation, oldest first."""
        while True:
            try:
                await self.replay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("spool replay round failed: %s", exc)
            if self._progress:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), REPLAY_EVERY_S)
            if self._count:
                await asyncio.sleep(REPLAY_EVERY_S)  # an outage: retry at a steady pace, not per park

    async def replay_once(self) -> int:
        """One pass over the spool; returns the turns still spooled."""
        before, self._progress = self._count, False
        n, cids = await asyncio.to_thread(self._sql_overview)
        self._count = n
        # only ever added here: a turn spooled while this query ran must not be forgotten (a
        # conversation leaves the set in `flush`, under its lock, once its rows are handed over)
        self._cids |= set(cids)
        SPOOLED.set(n)
        if not cids:
            if self._since is not None:
                REPLAY_SECONDS.set(time.monotonic() - self._since)
                self._since = None
            return 0
        if self._since is None:
            self._since = time.monotonic()
        with contextlib.suppress(Exception):  # other gateway processes must spool behind these too
            pipe = self.redis.pipeline(transaction=False)
            for cid in cids:
                pipe.set(self.key(cid), "1", ex=MARK_TTL_S)
            await pipe.execute()
        # Conversations are independent (order is per conversation): several at once, so a long
        # outage's backlog drains in seconds; the first one dialog cannot take ends the round.
        gate = asyncio.Semaphore(REPLAY_PARALLEL)
        down = asyncio.Event()

        async def one(cid: str) -> None:
            async with gate:
                if not down.is_set() and not await self._replay_conversation(cid):
                    down.set()

        await asyncio.gather(*(one(c) for c in cids))
        self._progress = self._count < max(before, n)
        return self._count

    async def _replay_conversation(self, cid: str) -> bool:
        """False when dialog is unavailable (stop this round)."""
        assert self.locks is not None
        async with self.locks.hold(cid):
            try:
                try:
                    lk = await self.deps.lock(cid)
                except DependencyError as exc:
                    if exc.status != 404:
                        return True  # busy: the conversation's own next turn or the next round
                    await self.deps.create_conversation(cid, "en")
                    lk = await self.deps.lock(cid)
            except (DependencyDown, DependencyError):
                return False
            try:
                await self.flush(cid, lk.fence)
            except (DependencyDown, SpoolBusy, DependencyError) as exc:
                log.info("spooled turns of %s wait: %s", cid, exc)
                return not isinstance(exc, DependencyDown)
            finally:
                with contextlib.suppress(DependencyDown, DependencyError):
                    await self.deps.unlock(cid, lk.lease_id)
        return True

    def status(self) -> dict[str, Any]:
        """What /readyz says: degraded while answered turns wait for dialog."""
        return {"spooled_turns": self._count, "conversations": len(self._cids),
                "state": "degraded" if self._count else "ok"}
