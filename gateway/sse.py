"""Server-sent events: the wire format, a live event stream with keep-alives, and a turn streamed
as `intent`, `products`, `token`…, `done` while it runs to completion even if the client leaves."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request

from gateway.events import EventHub
from gateway.turn.model import Emit, TurnResult

log = logging.getLogger("kefu.gateway.sse")

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
# OpenAPI: a 200 of these routes is an event stream (the fuzz test checks content types).
STREAM_DOC = {"content": {"text/event-stream": {"schema": {}}},
              "description": "Server-sent events (data: one JSON object)"}
KEEPALIVE_S = 15.0


def sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


async def live_events(hub: EventHub, request: Request, topic: str, queue: asyncio.Queue[dict[str, Any]],
                      hello: dict[str, Any]) -> AsyncIterator[bytes]:
    try:
        yield sse("ready", hello)
        while True:
            try:
                ev = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield b": keepalive\n\n"
                continue
            yield sse(ev.get("type", "message"), ev, ev.get("message_id"))
    finally:
        hub.unsubscribe(topic, queue)


async def streamed_turn(request: Request, run: Callable[[Emit], Awaitable[TurnResult]]) -> AsyncIterator[bytes]:
    """The turn's events as they come; everything already queued goes out in one write."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def emit(event: str, data: dict[str, Any]) -> None:
        queue.put_nowait((event, data))

    async def turn() -> None:
        try:
            queue.put_nowait(("done", (await run(emit)).public()))
        except Exception:  # the turn failed unexpectedly: say so, never hang the stream
            log.exception("streamed turn failed")
            queue.put_nowait(("error", {"error": {"code": "internal_error", "message": "the turn failed"}}))

    # The turn runs to completion (and is recorded) even if the shopper closes the stream.
    task = asyncio.create_task(turn())
    background: set[asyncio.Task[None]] = request.app.state.background
    background.add(task)
    task.add_done_callback(background.discard)
    while True:
        event, data = await queue.get()
        chunk = [sse(event, data)]
        while event not in ("done", "error") and not queue.empty():
            event, data = queue.get_nowait()
            chunk.append(sse(event, data))
        yield b"".join(chunk)
        if event in ("done", "error"):
            return
