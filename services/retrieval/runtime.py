"""What the retrieval service holds while it runs: the engine, whether its index is ready, and why
not. One `Runtime` per app, kept on `app.state.retrieval`; routes reach it through `RuntimeDep`.

The service answers at once; /readyz is 503 until the index is loaded and in step with the
catalog (the first sync may embed products). `watch` keeps the index in step with SQL changes
made by other processes (`kefu catalog import`), so the index never silently drifts from the
catalog, and retries a failed sync.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from sqlalchemy.orm import Session

from kefu.errors import APIError
from kefu.service import Check
from kefu.settings import Settings

from .catalog import delete_product, upsert_products
from .engine import RetrievalEngine
from .kb import KnowledgeBase, open_kb

log = logging.getLogger("kefu.retrieval")


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = RetrievalEngine(settings)
        self.ready = threading.Event()
        self.error: str | None = None
        self.kb: KnowledgeBase = open_kb(settings)
        self.kb_error: str | None = None

    def start(self) -> None:
        """Load and sync the index, then the model; a failure is reported by /readyz and
        retried by the watcher."""
        try:
            if self.engine.snap is None:
                self.engine.load()
            self.engine.sync()
            self.engine.embedder.encode_query("warm up")  # load the model before the first shopper
            self.error = None
            self.ready.set()
        except Exception as exc:
            log.exception("index sync failed")
            self.error = f"{type(exc).__name__}: {exc}"

    async def _out_of_step(self) -> bool:
        """The catalog changed since the index was synced, or the index is not ready yet."""
        snap = self.engine.snap
        count, wm = await asyncio.to_thread(self.engine.signature)
        return snap is None or (count, wm) != (snap.catalog_count, snap.watermark) or not self.ready.is_set()

    def sync_kb(self) -> None:
        """The knowledge base's index in step with SQL (`kefu kb import` from another process, or
        the API); a failure leaves the last index serving and is reported by /readyz."""
        try:
            if self.kb.out_of_step():
                self.kb.sync()
            self.kb_error = None
        except Exception as exc:
            log.exception("knowledge-base sync failed")
            self.kb_error = f"{type(exc).__name__}: {exc}"

    async def watch(self) -> None:
        """Start, then poll the catalog's and the knowledge base's signatures and sync when they
        move (until cancelled)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.start)
        await loop.run_in_executor(None, self.sync_kb)
        while True:
            await asyncio.sleep(self.settings.retrieval_watch_s)
            try:
                if await self._out_of_step():
                    await loop.run_in_executor(None, self.start)
                await loop.run_in_executor(None, self.sync_kb)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("catalog watch failed")

    def kb_or_503(self) -> KnowledgeBase:
        if self.kb.index is None:
            raise APIError(503, "kb_not_ready", self.kb_error or "the knowledge base is still loading")
        return self.kb

    async def check_kb(self) -> Check:
        """/readyz: the knowledge base's passages and model once indexed."""
        if self.kb.index is None:
            return Check(False, self.kb_error or "knowledge base loading")
        return Check(True, detail=self.kb.last_sync)

    async def check(self) -> Check:
        """/readyz: the index's version, size and lag once ready; the reason until then."""
        if not self.ready.is_set():
            return Check(False, self.error or "index loading")
        return Check(True, detail=await asyncio.to_thread(self.engine.status))

    def engine_or_503(self) -> RetrievalEngine:
        """The engine, for routes that need the index (catalog reads do not)."""
        if not self.ready.is_set():
            raise APIError(503, "index_not_ready", self.error or "the search index is still loading")
        return self.engine

    def index_report(self) -> dict[str, Any]:
        return {"ready": self.ready.is_set(), "error": self.error, **self.engine.status(),
                "last_sync": self.engine.last_sync}


def store_products(eng: RetrievalEngine, rows: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str], str]:
    """Write validated rows to SQL, then bring the index up to them before answering:
    (added, updated, unchanged, index version)."""
    with Session(eng.engine, expire_on_commit=False) as s, s.begin():
        added, updated, unchanged = upsert_products(s, rows)
    stats = eng.apply_ids(added + updated + unchanged, [])
    return added, updated, unchanged, stats["version"]


def remove_product(eng: RetrievalEngine, pid: str) -> str | None:
    """Delete from SQL, then from the index: the index version, or None if there was no such product."""
    with Session(eng.engine) as s, s.begin():
        found = delete_product(s, pid)
    if not found:
        return None
    return eng.apply_ids([], [pid])["version"]
