"""The fused calls of one turn, which save the gateway a round trip each: resolve under the FIFO
lock (creating the conversation if asked), and record a turn then release the lock.

Whatever fails after the lock is granted releases it, so a failed turn never blocks the next one
until the lease expires. No HTTP here: the routes only shape the answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from kefu.errors import APIError
from services.dialog.context import ProductInfo, Resolution
from services.dialog.schemas import LockRequest, RecordTurnBody
from services.dialog.store import DialogStore, State


@dataclass
class ResolvedTurn:
    resolution: Resolution
    state: State
    lease_id: str | None = None  # with a lock: the lease the caller releases (or /turns does)
    fence: int | None = None


async def resolve_turn(store: DialogStore, cid: str, text: str, *, lock: LockRequest | None = None,
                       create_lang: str | None = None) -> ResolvedTurn:
    """With `lock`, the state is read only after the lock is granted, so the turn resolves
    against everything the previous holder recorded."""
    lease, fence = (await store.lock(cid, lock.ttl_ms, lock.wait_ms)) if lock else (None, None)
    try:
        res, st = await _resolve_or_create(store, cid, text, create_lang)
    except BaseException:
        if lease is not None:
            await asyncio.shield(store.unlock(cid, lease))
        raise
    return ResolvedTurn(res, st, lease, fence)


async def _resolve_or_create(store: DialogStore, cid: str, text: str,
                             create_lang: str | None) -> tuple[Resolution, State]:
    try:
        return await store.resolve(cid, text)
    except APIError as exc:
        if exc.status != 404 or not create_lang:
            raise
    await store.create(cid, create_lang)
    return await store.resolve(cid, text)


async def record_turn(store: DialogStore, cid: str, body: RecordTurnBody) -> dict[str, Any]:
    """Record the turn; with `release_lease`, release that lease even when recording fails."""
    details = [ProductInfo(id=p.id, title=p.title, title_zh=p.title_zh, price=p.price)
               for p in body.product_details]
    try:
        out = await store.record(cid, body, details)
    finally:
        if body.release_lease:
            released = await asyncio.shield(store.unlock(cid, body.release_lease))
    if body.release_lease:
        out = {**out, "released": released}
    return out
