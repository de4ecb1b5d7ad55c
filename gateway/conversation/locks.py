"""Per-conversation ordering: a local FIFO lock (one waiter per process reaches the dialog
service) plus the dialog service's fenced lease (across gateway processes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gateway.clients import Dependencies, DependencyDown, DependencyError
from kefu.tracing import traced


@dataclass
class Lease:
    """The dialog lock held for one turn; `released` once a record call freed it."""

    id: str | None = None
    fence: int | None = None
    released: bool = False

    @property
    def held(self) -> bool:
        return self.id is not None and not self.released


class LocalLocks:
    """FIFO asyncio locks per conversation, dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, cid: str) -> AsyncIterator[None]:
        lock, n = self._locks.get(cid, (asyncio.Lock(), 0))
        self._locks[cid] = (lock, n + 1)
        try:
            async with lock:
                yield
        finally:
            lock, n = self._locks[cid]
            if n <= 1:
                self._locks.pop(cid, None)
            else:
                self._locks[cid] = (lock, n - 1)


@traced("turn.release")
async def release(deps: Dependencies, cid: str, lease: Lease) -> None:
    """Free the dialog lease unless a record call already did (a failure only costs its TTL)."""
    if lease.held and lease.id is not None:
        with contextlib.suppress(DependencyDown, DependencyError):
            await deps.unlock(cid, lease.id)


async def acquire(deps: Dependencies, cid: str, lease: Lease) -> bool:
    """Take the dialog lease alone (agent messages); False when dialog is unavailable."""
    try:
        lk = await deps.lock(cid)
    except (DependencyDown, DependencyError):
        return False
    lease.id, lease.fence = lk.lease_id, lk.fence
    return True
