"""Dialog service HTTP API (routes only): conversation state, FIFO lock, follow-up resolution,
turns, transcripts and the dashboard listing.

The parts live in `runtime.DialogRuntime` (`app.state.dialog`, reached through `deps`); the
state in store.py, the fused turn calls in turns.py, resolution in context.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

import redis.exceptions as redis_exc
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from kefu.errors import APIError, error_response, error_responses
from kefu.service import Check, ReadinessCheck
from kefu.service import create_app as kefu_app
from kefu.service_auth import INTERNAL, INTERNAL_RESPONSES, protect
from kefu.settings import Settings, get_settings
from services.dialog.deps import Cid, LeaseId, StoreDep
from services.dialog.runtime import DialogRuntime, no_writer
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
from services.dialog.turns import record_turn, resolve_turn

MAX_RESOLVE_CHARS = 4000
StatusFilter = Annotated[str | None, Query(pattern="^(bot|pending_human|human)$")]

router = APIRouter(prefix="/v1/conversations", responses=error_responses(404))


@router.post("", status_code=201, response_model=DialogStateOut, tags=["dialog"],
             summary="Create a conversation (200 with the existing state if the id exists)")
async def create(store: StoreDep, body: CreateConversation | None = None) -> Any:
    body = body or CreateConversation()
    st, created = await store.create(body.conversation_id, body.lang, fresh=body.fresh)
    if not created:
        return JSONResponse(DialogStateOut(**st.public()).model_dump(), status_code=200)
    return st.public()


@router.get("", response_model=ConversationList, tags=["dialog"],
            summary="Active conversations for the agent dashboard, most recent first")
async def list_conversations(store: StoreDep, status: StatusFilter = None,
                             limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
    return {"conversations": await store.list_active(status, limit)}


@router.get("/{cid}", response_model=DialogStateOut, tags=["dialog"],
            summary="The state: last five turns, slots, status (rebuilt from SQL if Redis lost it)")
async def get_state(cid: Cid, store: StoreDep) -> Any:
    st = await store.load(cid)
    if st is None:
        raise APIError(404, "not_found", f"unknown conversation {cid}")
    return st.public()


@router.post("/{cid}/lock", response_model=LockResponse, tags=["ordering"],
             summary="Wait in FIFO order for the conversation lock; returns a lease and a fencing token",
             responses={409: {"description": "lock_timeout: not granted within wait_ms"}})
async def lock(cid: Cid, store: StoreDep, body: LockRequest | None = None) -> Any:
    body = body or LockRequest()
    lease, fence = await store.lock(cid, body.ttl_ms, body.wait_ms)
    return {"lease_id": lease, "fence": fence}


@router.delete("/{cid}/lock/{lease_id}", tags=["ordering"], summary="Release the lock and wake the next waiter")
async def unlock(cid: Cid, lease_id: LeaseId, store: StoreDep) -> Any:
    return {"released": await store.unlock(cid, lease_id)}


@router.post("/{cid}/resolve", response_model=ResolveOut, tags=["dialog"],
             summary="Make a follow-up standalone, resolve product references, merge slots")
async def resolve(cid: Cid, body: ResolveBody, store: StoreDep) -> Any:
    """With `lock`, the state is read only after the lock is granted, so a turn resolves
    against everything the previous holder recorded; any failure after the grant releases it."""
    if len(body.text) > MAX_RESOLVE_CHARS:
        raise APIError(422, "invalid_request", f"text is longer than {MAX_RESOLVE_CHARS} characters")
    turn = await resolve_turn(store, cid, body.text, lock=body.lock, create_lang=body.create_lang)
    res = turn.resolution
    return {"standalone": res.standalone, "rewritten": res.rewritten, "slots": res.slots,
            "referenced_products": res.referenced_products, "topic_changed": res.topic_changed,
            "state": turn.state.public(), "kind": res.kind, "ambiguous": res.ambiguous, "topic": res.topic,
            "context_scores": res.scores, "lang": res.lang, "lease_id": turn.lease_id, "fence": turn.fence}


@router.post("/{cid}/turns", status_code=201, response_model=RecordTurnResponse, tags=["dialog"],
             summary="Append a turn atomically (rejects a stale fence with 409)",
             responses={409: {"description": "stale_fence"}, 404: {"description": "unknown conversation"}})
async def record(cid: Cid, body: RecordTurnBody, store: StoreDep) -> Any:
    out = await record_turn(store, cid, body)
    if out.get("duplicate"):
        return JSONResponse(RecordTurnResponse(**out).model_dump(), status_code=200)
    return out


@router.get("/{cid}/messages", response_model=TranscriptResponse, tags=["dialog"],
            summary="The full transcript in order, including turns not yet written to SQL")
async def messages(cid: Cid, store: StoreDep) -> Any:
    return {"conversation_id": cid, "messages": await store.transcript(cid)}


@router.put("/{cid}/status", response_model=DialogStateOut, tags=["dialog"], summary="Set bot | pending_human | human")
async def set_status(cid: Cid, body: StatusRequest, store: StoreDep) -> Any:
    st = await store.set_status(cid, body.status)
    return st.public()


@router.get("/{cid}/memory", tags=["ops"], summary="Redis bytes held by this conversation")
async def memory(cid: Cid, store: StoreDep) -> Any:
    return {"conversation_id": cid, "bytes": await store.memory_usage(cid)}


async def _redis_down(_: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "redis_unavailable", f"dialog state store unavailable: {type(exc).__name__}")


def _lifespan(settings: Settings, run_writer: bool,
              claim_idle_ms: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = DialogRuntime.open(settings, run_writer=run_writer, claim_idle_ms=claim_idle_ms)
        app.state.dialog = runtime
        try:
            yield
        finally:
            await runtime.close()

    return lifespan


def _checks(app: FastAPI) -> dict[str, ReadinessCheck]:
    """Readiness asks the runtime; before the lifespan has built it, Redis is "starting"."""
    async def redis() -> Check:
        runtime: DialogRuntime | None = getattr(app.state, "dialog", None)
        return await runtime.redis_check() if runtime else Check(False, "starting")

    async def writer() -> Check:
        runtime: DialogRuntime | None = getattr(app.state, "dialog", None)
        return await runtime.writer_check() if runtime else no_writer()

    return {"redis": redis, "writer": writer}


def create_app(settings: Settings | None = None, *, run_writer: bool = True,
               claim_idle_ms: int = 15000) -> FastAPI:
    settings = settings or get_settings()
    app = kefu_app(
        "dialog", title="kefu dialog service",
        description="Five-turn window, slots and follow-up resolution in Redis; FIFO per-conversation "
                    "lock with fencing; durable transcripts via a Redis Stream writer into SQL.",
        lifespan=_lifespan(settings, run_writer, claim_idle_ms),
    )
    app.state.readiness_checks.update(_checks(app))
    app.add_exception_handler(redis_exc.RedisError, _redis_down)
    protect(app, settings)
    app.include_router(router, dependencies=INTERNAL, responses=INTERNAL_RESPONSES)
    return app
