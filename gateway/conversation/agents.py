"""What agents do to a conversation besides reading it: send a message (recorded in order with
the shopper's turns, pushed live to the shopper) and change its status (takeover, release)."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.clients import Dependencies
from gateway.conversation.locks import Lease, LocalLocks, acquire, release
from gateway.conversation.recording import Recorder, message_event
from gateway.events import AGENTS, EventHub
from gateway.store import ConversationStore
from kefu.contracts import RecordTurnRequest


class AgentDesk:
    def __init__(self, deps: Dependencies, locks: LocalLocks, recorder: Recorder, store: ConversationStore,
                 hub: EventHub) -> None:
        self.deps = deps
        self.locks = locks
        self.recorder = recorder
        self.store = store
        self.hub = hub

    async def send(self, cid: str, text: str, agent: str) -> dict[str, Any]:
        message_id = uuid.uuid4().hex
        degraded: list[str] = []
        async with self.locks.hold(cid):
            lease = Lease()
            if not await acquire(self.deps, cid, lease):
                degraded.append("dialog")
            try:
                req = RecordTurnRequest(message_id=message_id, user_text=None, reply_text=text, role="agent",
                                        evidence={"agent": agent}, fence=lease.fence)
                await self.recorder.record(cid, req, degraded, lease=lease)
            finally:
                await release(self.deps, cid, lease)
        event = message_event(cid, message_id, "agent", text, agent=agent)
        await self.store.touch(cid, "agent", text)
        await self.hub.publish(EventHub.conv_topic(cid), event)
        await self.hub.publish(AGENTS, event)
        return {"message_id": message_id, "role": "agent", "text": text, "created_at": event["created_at"],
                "degraded": sorted(set(degraded))}

    async def set_status(self, cid: str, status: str, reason: str | None) -> None:
        await self.recorder.set_status(cid, status, reason)

