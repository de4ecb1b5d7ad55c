"""A retried message (same `client_message_id`) gets the first answer, not a second turn."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from redis.asyncio import Redis

REPLAY_TTL_S = 86400


class Replays:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, cid: str, cmid: str) -> str:
        return f"{self.prefix}gw:cmid:{cid}:{cmid}"

    async def get(self, cid: str, cmid: str | None) -> dict[str, Any] | None:
        """The public JSON of the turn first answered for this client message id, if any."""
        if not cmid:
            return None
        try:
            raw = await self.redis.get(self.key(cid, cmid))
        except Exception:
            return None
        return json.loads(raw) if raw else None

    async def put(self, cid: str, cmid: str | None, public: dict[str, Any]) -> None:
        if not cmid:
            return
        with contextlib.suppress(Exception):
            await self.redis.set(self.key(cid, cmid), json.dumps(public, default=str), ex=REPLAY_TTL_S)
