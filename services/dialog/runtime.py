"""What the dialog service holds while it runs: the Redis store and the transcript writer.

Built once in the app's lifespan and kept on `app.state.dialog` (routes reach the store through
`services.dialog.deps`); its readiness answers are here so /readyz and the parts it reports on
are in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.exceptions as redis_exc

from kefu.service import Check
from kefu.settings import Settings
from services.dialog.sqlstore import TranscriptDB, prepare_sql
from services.dialog.store import DialogStore
from services.dialog.writer import TranscriptWriter
from services.dialog.writer_process import WriterProcess

Writer = TranscriptWriter | WriterProcess


def no_writer() -> Check:
    """/readyz before the lifespan has run, or with KEFU_DIALOG_WRITER=off: ready, no writer."""
    return Check(True, detail={"running": False, "mode": "off"})


def start_writer(settings: Settings, store: DialogStore, db: TranscriptDB, mode: str,
                 claim_idle_ms: int) -> Writer | None:
    """`inline`: a task in this process; `process`: a child it restarts; `off`: none (another
    container runs `kefu dialog writer`)."""
    writer: Writer | None = None
    if mode == "inline":
        writer = TranscriptWriter(store, db, claim_idle_ms=claim_idle_ms)
    elif mode == "process":
        writer = WriterProcess(redis_url=settings.redis_url, prefix=settings.redis_prefix,
                               sql_url=settings.sql_url, ttl_s=settings.conversation_ttl_s,
                               claim_idle_ms=claim_idle_ms)
    if writer is not None:
        writer.start()
    return writer


@dataclass
class DialogRuntime:
    settings: Settings
    store: DialogStore
    writer: Writer | None

    @classmethod
    def open(cls, settings: Settings, *, run_writer: bool = True, claim_idle_ms: int = 15000) -> DialogRuntime:
        """Tables, store and writer; call inside the event loop (the writer starts a task)."""
        prepare_sql(settings)
        db = TranscriptDB(settings.sql_url)
        store = DialogStore.from_settings(settings, db)
        mode = settings.dialog_writer if run_writer else "off"
        return cls(settings, store, start_writer(settings, store, db, mode, claim_idle_ms))

    async def close(self) -> None:
        if self.writer:
            await self.writer.stop()
        await self.store.close()

    async def redis_check(self) -> Check:
        try:
            await self.store.r.ping()
            stats = await self.store.stream_stats()
        except redis_exc.RedisError as exc:
            where = self.settings.redis_url.split("@")[-1]  # never the password
            return Check(False, f"Redis unreachable at {where}: {exc}")
        return Check(True, detail=stats)

    async def writer_check(self) -> Check:
        writer = self.writer
        if writer is None:
            return no_writer()
        if isinstance(writer, WriterProcess):
            try:
                detail = await writer.status(self.store.r)
            except redis_exc.RedisError:
                detail = {"running": writer.running, "mode": "process"}
            # A child that has just been (re)started counts as running: it is connecting.
            return Check(writer.running, "" if writer.running else "transcript writer process not running", detail)
        return Check(writer.running, "" if writer.running else "transcript writer stopped", writer.status())
