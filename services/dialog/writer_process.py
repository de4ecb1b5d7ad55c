"""The transcript writer in its own process, watched by the dialog service.

Why a process: the writer's SQL batches are CPU work in Python. Run as a task in the service (its
SQL in a thread), they held the GIL for up to one switch interval (5 ms) while a state update
waited, which was the whole p99 of a state update: 6.1–6.8 ms with the writer in-process against
1.0–2.3 ms without it (bench/dialog, quiet box). In its own process the OS schedules it instead.

The service starts the child, restarts it with a back-off when it exits, and stops it on
shutdown; the child dies with its parent (PR_SET_PDEATHSIG, plus a parent-pid check). The child
reports progress through a Redis hash (`TranscriptWriter.heartbeat_key`), which `/readyz` reads.
Nothing is lost when the child dies: its unacknowledged entries stay pending in the stream under
the same consumer name, and the next child writes them first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger("kefu.dialog.writer")

RESTART_BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)


def heartbeat_key(prefix: str) -> str:
    return f"{prefix}dlg:writer"


def child_argv(*, redis_url: str, prefix: str, sql_url: str, ttl_s: int, claim_idle_ms: int = 15000) -> list[str]:
    """`main`'s arguments: what the service passes its child and `kefu dialog writer` runs with."""
    return ["--redis", redis_url, "--prefix", prefix, "--sql", sql_url, "--ttl", str(ttl_s),
            "--claim-idle-ms", str(claim_idle_ms)]


class WriterProcess:
    """Parent side: keep one writer child running while the service runs."""

    def __init__(self, *, redis_url: str, prefix: str, sql_url: str, ttl_s: int,
                 claim_idle_ms: int = 15000) -> None:
        self.args = child_argv(redis_url=redis_url, prefix=prefix, sql_url=sql_url, ttl_s=ttl_s,
                               claim_idle_ms=claim_idle_ms)
        self.prefix = prefix
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self.last_exit: int | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="dialog-writer-watch")

    async def _spawn(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.dialog.writer_process", *self.args,
            stdin=asyncio.subprocess.DEVNULL)

    async def _watch(self) -> None:
        fails = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                await self._spawn()
                assert self.proc is not None
                self.last_exit = await self.proc.wait()
            except OSError as exc:
                log.error("could not start the transcript writer: %s", exc)
                self.last_exit = -1
            if self._stop.is_set():
                return
            fails = 0 if time.monotonic() - started > 30 else fails + 1
            delay = RESTART_BACKOFF_S[min(fails, len(RESTART_BACKOFF_S) - 1)]
            self.restarts += 1
            log.warning("transcript writer exited with %s; restarting in %.1fs", self.last_exit, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        proc = self.proc
        if proc is not None and proc.returncode is None:
            proc.terminate()  # the child finishes the batch it holds, then exits
            try:
                await asyncio.wait_for(proc.wait(), timeout_s)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def status(self, r: aioredis.Redis) -> dict[str, Any]:
        beat = await r.hgetall(heartbeat_key(self.prefix))
        detail: dict[str, Any] = {"running": self.running, "mode": "process",
                                  "pid": self.proc.pid if self.proc else None, "restarts": self.restarts}
        if beat:
            detail["written"] = int(beat.get("written") or 0)
            detail["heartbeat_age_s"] = round(time.time() - float(beat.get("ts") or 0), 1)
            if beat.get("last_error"):
                detail["last_error"] = beat["last_error"]
        return detail


def _die_with_parent() -> None:
    """Linux: SIGTERM when the parent dies, so a SIGKILLed service leaves no orphan writer."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def run_child(ns: argparse.Namespace) -> None:
    from kefu.db import init_db
    from services.dialog.sqlstore import TranscriptDB
    from services.dialog.store import DialogStore
    from services.dialog.writer import TranscriptWriter

    init_db(ns.sql)
    db = TranscriptDB(ns.sql)
    store = DialogStore(ns.redis, ns.prefix, ns.ttl, db)
    writer = TranscriptWriter(store, db, claim_idle_ms=ns.claim_idle_ms)
    writer.heartbeat_key = heartbeat_key(ns.prefix)
    loop = asyncio.get_running_loop()
    parent = os.getppid()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = writer.start()
    try:
        while not stop.is_set() and not task.done():
            if os.getppid() != parent:  # orphaned (no PDEATHSIG on this platform)
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        await writer.finish()  # the batch in hand is committed and acknowledged first
        await store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.dialog.writer_process",
                                 description="transcript writer: Redis Stream -> SQL")
    ap.add_argument("--redis", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--sql", required=True)
    ap.add_argument("--ttl", type=int, default=1800)
    ap.add_argument("--claim-idle-ms", type=int, default=15000)
    ns = ap.parse_args(argv)
    from kefu.logging import configure_logging

    configure_logging("dialog-writer", os.environ.get("KEFU_LOG_LEVEL", "INFO"))
    _die_with_parent()
    asyncio.run(run_child(ns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
