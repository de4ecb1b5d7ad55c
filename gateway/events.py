"""Live events through Redis pub/sub: agent messages and status changes reach the shopper's
`/events` stream and every dashboard's `/v1/agent/stream`, across gateway processes.

One pattern subscription per process fans out to in-process queues, so a thousand open SSE
streams cost one Redis connection, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.asyncio import Redis

from kefu.redis_conn import is_cluster_client

log = logging.getLogger("kefu.gateway.events")

AGENTS = "agents"


class EventHub:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix + "gw:ev:"
        self._subs: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def channel(self, topic: str) -> str:
        return self.prefix + topic

    @staticmethod
    def conv_topic(cid: str) -> str:
        return f"conv:{cid}"

    def encode(self, topic: str, event: dict[str, Any]) -> tuple[str, str]:
        """(channel, message) for publishing inside a caller's pipeline."""
        return self.channel(topic), json.dumps(event, ensure_ascii=False, default=str)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        try:
            await self.redis.publish(self.channel(topic), json.dumps(event, ensure_ascii=False, default=str))
        except Exception as exc:  # a lost live event must not fail the turn; transcripts keep it
            log.warning("publish failed on %s: %s", topic, exc)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-hub")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=2.0)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                if is_cluster_client(self.redis):
                    await self.redis.initialize()  # a cluster's pubsub needs the slot map first
                await pubsub.psubscribe(self.prefix + "*")
                self._ready.set()
                async for msg in pubsub.listen():
                    if msg.get("type") != "pmessage":
                        continue
                    chan = msg["channel"]
                    chan = chan.decode() if isinstance(chan, bytes) else chan
                    topic = chan[len(self.prefix):]
                    queues = self._subs.get(topic)
                    if not queues:
                        continue
                    try:
                        event = json.loads(msg["data"])
                    except (ValueError, TypeError):
                        continue
                    for q in list(queues):
                        if q.qsize() < 1000:
                            q.put_nowait(event)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except Exception as exc:
                log.warning("event hub lost Redis (%s); resubscribing", exc)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(1.0)

    def subscribe(self, topic: str) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subs.setdefault(topic, set()).add(q)
        return q

    def unsubscribe(self, topic: str, q: asyncio.Queue[dict[str, Any]]) -> None:
        subs = self._subs.get(topic)
        if subs:
            subs.discard(q)
            if not subs:
                self._subs.pop(topic, None)
