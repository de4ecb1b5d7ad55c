"""Dialog service HTTP API (thin): conversation state, FIFO lock, follow-up resolution, turns,
transcripts and the dashboard listing. Domain logic lives in store.py, context.py, writer.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import redis.exceptions as redis_exc
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse

from kefu.db import init_db
from kefu.errors import APIError, error_response
from kefu.service import Check
from kefu.service import create_app as kefu_app
from kefu.settings import Settings, get_settings
from services.dialog.context import ProductInfo
from services.dialog.schemas import (
    ConversationList,
    CreateConversation,
    DialogStateOut,
    LockRequest,
    LockResponse,
    RecordTurnBody,
    RecordTurnResponse,
    ResolveBody,
    ResolveOut,
    StatusRequest,
    TranscriptResponse,
)
from services.dialog.sqlstore import TranscriptDB
from services.dialog.store import DialogStore
from services.dialog.writer import TranscriptWriter
from services.dialog.writer_process import WriterProcess

log = logging.getLogger("kefu.dialog")

Cid = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="conversation id")]


async def get_store(request: Request) -> DialogStore:
    """async: FastAPI runs a plain-def dependency in the thread pool, a thread hop per request."""
    return request.app.state.store


StoreDep = Annotated[DialogStore, Depends(get_store)]


def create_app(settings: Settings | None = None, *, run_writer: bool = True,
               claim_idle_ms: int = 15000) -> FastAPI:
    settings = settings or get_settings()
    holder: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.sql_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        init_db(settings.sql_url)
        db = TranscriptDB(settings.sql_url)
        store = DialogStore(settings.redis_url, settings.redis_prefix, settings.conversation_ttl_s, db)
        app.state.store = store
        holder["store"] = store
        writer: TranscriptWriter | WriterProcess | None = None
        mode = settings.dialog_writer if run_writer else "off"
        if mode == "inline":
            writer = TranscriptWriter(store, db, claim_idle_ms=claim_idle_ms)
            writer.start()
        elif mode == "process":
            writer = WriterProcess(redis_url=settings.redis_url, prefix=settings.redis_prefix,
                                   sql_url=settings.sql_url, ttl_s=settings.conversation_ttl_s,
                                   claim_idle_ms=claim_idle_ms)
            writer.start()
        holder["writer"] = writer
        app.state.writer = writer
        try:
            yield
        finally:
            if writer:
                await writer.stop()
            await store.close()

    async def check_redis() -> Check:
        store: DialogStore | None = holder.get("store")
        if store is None:
            return Check(False, "starting")
        try:
            await store.r.ping()
            stats = await store.stream_stats()
        except redis_exc.RedisError as exc:
            return Check(False, f"Redis unreachable at {settings.redis_url.split('@')[-1]}: {exc}")
        return Check(True, detail=stats)

    async def check_writer() -> Check:
        writer: TranscriptWriter | WriterProcess | None = holder.get("writer")
        if writer is None:
            return Check(True, detail={"running": False, "mode": "off"})
        if isinstance(writer, WriterProcess):
            try:
                detail = await writer.status(holder["store"].r)
            except redis_exc.RedisError:
                detail = {"running": writer.running, "mode": "process"}
            # A child that has just been (re)started counts as running: it is connecting.
            return Check(writer.running, "" if writer.running else "transcript writer process not running", detail)
        running = writer._task is not None and not writer._task.done()
        detail = {"running": running, "written": writer.written}
        if writer.last_error:
            detail["last_error"] = writer.last_error  # transcripts wait in the stream meanwhile
        return Check(running, "" if running else "transcript writer stopped", detail)

    app = kefu_app(
        "dialog", title="kefu dialog service",
        description="Five-turn window, slots and follow-up resolution in Redis; FIFO per-conversation "
                    "lock with fencing; durable transcripts via a Redis Stream writer into SQL.",
        checks={"redis": check_redis, "writer": check_writer}, lifespan=lifespan,
    )

    @app.exception_handler(redis_exc.RedisError)
    async def _redis_down(_: Request, exc: redis_exc.RedisError) -> JSONResponse:
        return error_response(503, "redis_unavailable", f"dialog state store unavailable: {type(exc).__name__}")

    @app.post("/v1/conversations", status_code=201, response_model=DialogStateOut, tags=["dialog"],
              summary="Create a conversation (200 with the existing state if the id exists)")
    async def create(store: StoreDep, body: CreateConversation | None = None) -> Any:
        body = body or CreateConversation()
        st, created = await store.create(body.conversation_id, body.lang, fresh=body.fresh)
        if not created:
            return JSONResponse(DialogStateOut(**st.public()).model_dump(), status_code=200)
        return st.public()

    @app.get("/v1/conversations", response_model=ConversationList, tags=["dialog"],
             summary="Active conversations for the agent dashboard, most recent first")
    async def list_conversations(store: StoreDep, status: Annotated[str | None, Query(
            pattern="^(bot|pending_human|human)$")] = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
        return {"conversations": await store.list_active(status, limit)}

    @app.get("/v1/conversations/{cid}", response_model=DialogStateOut, tags=["dialog"],
             summary="The state: last five turns, slots, status (rebuilt from SQL if Redis lost it)")
    async def get_state(cid: Cid, store: StoreDep) -> Any:
        st = await store.load(cid)
        if st is None:
            raise APIError(404, "not_found", f"unknown conversation {cid}")
        return st.public()

    @app.post("/v1/conversations/{cid}/lock", response_model=LockResponse, tags=["ordering"],
              summary="Wait in FIFO order for the conversation lock; returns a lease and a fencing token",
              responses={409: {"description": "lock_timeout: not granted within wait_ms"}})
    async def lock(cid: Cid, store: StoreDep, body: LockRequest | None = None) -> Any:
        body = body or LockRequest()
        lease, fence = await store.lock(cid, body.ttl_ms, body.wait_ms)
        return {"lease_id": lease, "fence": fence}

    @app.delete("/v1/conversations/{cid}/lock/{lease_id}", tags=["ordering"],
                summary="Release the lock and wake the next waiter")
    async def unlock(cid: Cid, lease_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
                     store: StoreDep) -> Any:
        released = await store.unlock(cid, lease_id)
        return {"released": released}

    @app.post("/v1/conversations/{cid}/resolve", response_model=ResolveOut, tags=["dialog"],
              summary="Make a follow-up standalone, resolve product references, merge slots")
    async def resolve(cid: Cid, body: ResolveBody, store: StoreDep) -> Any:
        """With `lock`, the state is read only after the lock is granted, so a turn resolves
        against everything the previous holder recorded; any failure after the grant releases it."""
        if len(body.text) > 4000:
            raise APIError(422, "invalid_request", "text is longer than 4000 characters")
        lease, fence = (await store.lock(cid, body.lock.ttl_ms, body.lock.wait_ms)) if body.lock else (None, None)
        try:
            try:
                res, st = await store.resolve(cid, body.text)
            except APIError as exc:
                if exc.status != 404 or not body.create_lang:
                    raise
                await store.create(cid, body.create_lang)
                res, st = await store.resolve(cid, body.text)
        except BaseException:
            if lease is not None:
                await asyncio.shield(store.unlock(cid, lease))
            raise
        return {"standalone": res.standalone, "rewritten": res.rewritten, "slots": res.slots,
                "referenced_products": res.referenced_products, "topic_changed": res.topic_changed,
                "state": st.public(), "kind": res.kind, "ambiguous": res.ambiguous, "topic": res.topic,
                "context_scores": res.scores, "lang": res.lang, "lease_id": lease, "fence": fence}

    @app.post("/v1/conversations/{cid}/turns", status_code=201, response_model=RecordTurnResponse,
              tags=["dialog"], summary="Append a turn atomically (rejects a stale fence with 409)",
              responses={409: {"description": "stale_fence"}, 404: {"description": "unknown conversation"}})
    async def record(cid: Cid, body: RecordTurnBody, store: StoreDep) -> Any:
        details = [ProductInfo(id=p.id, title=p.title, title_zh=p.title_zh, price=p.price)
                   for p in body.product_details]
        try:
            out = await store.record(cid, body, details)
        finally:
            if body.release_lease:
                released = await asyncio.shield(store.unlock(cid, body.release_lease))
        if body.release_lease:
            out = {**out, "released": released}
        if out.get("duplicate"):
            return JSONResponse(RecordTurnResponse(**out).model_dump(), status_code=200)
        return out

    @app.get("/v1/conversations/{cid}/messages", response_model=TranscriptResponse, tags=["dialog"],
             summary="The full transcript in order, including turns not yet written to SQL")
    async def messages(cid: Cid, store: StoreDep) -> Any:
        return {"conversation_id": cid, "messages": await store.transcript(cid)}

    @app.put("/v1/conversations/{cid}/status", response_model=DialogStateOut, tags=["dialog"],
             summary="Set bot | pending_human | human")
    async def set_status(cid: Cid, body: StatusRequest, store: StoreDep) -> Any:
        st = await store.set_status(cid, body.status)
        return st.public()

    @app.get("/v1/conversations/{cid}/memory", tags=["ops"], summary="Redis bytes held by this conversation")
    async def memory(cid: Cid, store: StoreDep) -> Any:
        return {"conversation_id": cid, "bytes": await store.memory_usage(cid)}

    return app
