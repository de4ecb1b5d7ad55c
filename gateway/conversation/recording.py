"""Recording what was said: the turn into dialog's transcript (parked when dialog is away), the
live events for dashboards, and status changes (takeover, handoff, release)."""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.asyncio import Redis

from gateway.clients import Dependencies, DependencyDown, DependencyError
from gateway.conversation.locks import Lease
from gateway.conversation.parking import ParkedTurns
from gateway.events import AGENTS, EventHub
from gateway.store import ConversationStore
from kefu.contracts import RecordTurnRequest
from kefu.redis_conn import is_cluster_client
from kefu.tracing import traced

log = logging.getLogger("kefu.gateway.recording")

DETAIL_PRODUCTS = 5


def message_event(cid: str, message_id: str, role: str, text: str, **extra: Any) -> dict[str, Any]:
    now = time.time()
    return {"type": "message", "conversation_id": cid, "message_id": message_id, "role": role, "text": text,
            "at": now, "created_at": now, **extra}


class Recorder:
    def __init__(self, deps: Dependencies, redis: Redis, store: ConversationStore, hub: EventHub,
                 parked: ParkedTurns) -> None:
        self.deps = deps
        self.redis = redis
        self.store = store
        self.hub = hub
        self.parked = parked

    @traced("turn.record")
    async def record(self, cid: str, req: RecordTurnRequest, degraded: list[str],
                     products: list[dict[str, Any]] | None = None, lease: Lease | None = None) -> None:
        """Record the turn; with a held lease, the same call releases the conversation lock.
        Dialog unavailable (or refusing) → the turn is spooled and `dialog` named in `degraded`;
        behind turns still spooled for the conversation it is spooled too (never overtakes them)."""
        if "dialog" in degraded or self.parked.has(cid):
            await self.parked.park(cid, req)
            return
        details = [{"id": p["id"], "title": p.get("title") or "", "title_zh": p.get("title_zh") or "",
                    "price": p.get("price")} for p in (products or [])[:DETAIL_PRODUCTS]]
        release = lease.id if lease is not None and lease.held else None
        try:
            out = await self.deps.record(cid, req, details, release_lease=release)
            if lease is not None and release and isinstance(out, dict) and out.get("released") is not None:
                lease.released = True
        except DependencyDown as exc:
            log.warning("record failed for %s: %s", cid, exc)
            degraded.append("dialog")
            await self.parked.park(cid, req)
        except DependencyError as exc:
            log.error("dialog refused turn %s: %s", req.message_id, exc.body)
            degraded.append("dialog")
            await self.parked.park(cid, req)

    @traced("turn.publish")
    async def after_turn(self, cid: str, events: list[dict[str, Any]], touch: tuple[str, str, str | None]) -> None:
        """The turn's live events for the dashboards and the registry's last activity: one Redis
        round trip (a lost live event never fails a turn; the transcript keeps it)."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            if is_cluster_client(self.redis):  # a cluster pipeline refuses PUBLISH: send them beside it
                for ev in events:
                    await self.redis.publish(*self.hub.encode(AGENTS, ev))
            else:
                for ev in events:
                    pipe.publish(*self.hub.encode(AGENTS, ev))
            self.store.queue_cache(pipe, cid, self.store.touch_fields(*touch))
            await pipe.execute()
        except Exception as exc:
            log.warning("live events/registry update failed for %s: %s", cid, exc)

    async def set_status(self, cid: str, status: str, reason: str | None, *, tell_dialog: bool = True) -> None:
        await self.store.set_status(cid, status, reason)
        if tell_dialog:
            try:
                await self.deps.set_status(cid, status)
            except (DependencyDown, DependencyError) as exc:
                log.warning("dialog did not take status %s for %s: %s", status, cid, exc)
        now = time.time()
        event = {"type": "status", "conversation_id": cid, "status": status, "reason": reason,
                 "at": now, "created_at": now}
        await self.hub.publish(AGENTS, event)
        await self.hub.publish(EventHub.conv_topic(cid), event)
