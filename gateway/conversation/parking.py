"""Turns the gateway could not hand to dialog, kept in Redis and handed over in order once
dialog is back (the next turn of that conversation flushes them, under its lock)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from redis.asyncio import Redis

from gateway.clients import Dependencies, DependencyError
from kefu.contracts import RecordTurnRequest

log = logging.getLogger("kefu.gateway.parking")

PARK_TTL_S = 7 * 24 * 3600


class ParkedTurns:
    def __init__(self, redis: Redis, prefix: str, deps: Dependencies) -> None:
        self.redis = redis
        self.prefix = prefix
        self.deps = deps

    def key(self, cid: str) -> str:
        return f"{self.prefix}gw:pending:{cid}"

    async def park(self, cid: str, req: RecordTurnRequest) -> None:
        """Dialog is down: keep the turn in Redis and hand it over when dialog is back."""
        req = req.model_copy(update={"evidence": {**req.evidence, "at": time.time()}})
        try:
            await self.redis.rpush(self.key(cid), req.model_dump_json(exclude={"fence"}))
            await self.redis.expire(self.key(cid), PARK_TTL_S)
        except Exception as exc:
            log.error("turn %s lost: dialog and Redis both failed (%s)", req.message_id, exc)

    async def pending(self, cid: str) -> list[dict[str, Any]]:
        try:
            return [json.loads(x) for x in await self.redis.lrange(self.key(cid), 0, -1)]
        except Exception:
            return []

    async def flush(self, cid: str, fence: int | None) -> None:
        """Hand every parked turn to dialog, oldest first, under the caller's lease."""
        key = self.key(cid)
        while True:
            raw = await self.redis.lindex(key, 0)
            if raw is None:
                return
            req = RecordTurnRequest.model_validate_json(raw)
            req.fence = fence
            try:
                await self.deps.record(cid, req)
            except DependencyError as exc:
                log.warning("dialog refused parked turn %s: %s", req.message_id, exc.body)
            await self.redis.lpop(key)
