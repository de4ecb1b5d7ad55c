"""The shopper's API (the widget): conversations, messages (JSON or SSE), handoff, transcript,
live events. Every conversation endpoint needs that conversation's token."""

from __future__ import annotations

import contextlib
import time
import uuid
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from gateway import sse
from gateway.clients import DependencyDown, DependencyError
from gateway.deps import (
    ConversationId,
    GatewayDep,
    OwnedConversation,
    OwnedConversationOrQuery,
    limit_ip,
    limit_new_conversations,
    limit_reads,
)
from gateway.events import AGENTS, EventHub
from gateway.orders.verify import identity_ok
from gateway.schemas import (
    CreateConversationRequest,
    CreateConversationResponse,
    HandoffIn,
    MessageIn,
    StatusOut,
    Transcript,
    TurnOut,
)
from gateway.security import hash_token, new_token
from gateway.store import public_record
from kefu.errors import APIError, error_responses

router = APIRouter(prefix="/v1/conversations", tags=["conversations"],
                   responses=error_responses(401, 403, 404))  # the conversation token (deps.conversation)
HANDOFF_REASON_CHARS = 64


@router.post("", status_code=201, response_model=CreateConversationResponse,
             dependencies=[Depends(limit_new_conversations)],
             summary="Start a conversation; the token authorises its other endpoints")
async def create_conversation(gw: GatewayDep, body: CreateConversationRequest | None = None) -> dict[str, Any]:
    lang = (body.lang if body else None) or gw.s.shop_lang
    customer = None
    if body and body.identity:
        if not identity_ok(gw.s.identity_secret, body.identity.email, body.identity.signature):
            raise APIError(403, "invalid_identity", "the identity signature does not match (or the shop has no "
                                                    "KEFU_IDENTITY_SECRET)")
        customer = body.identity.email.strip().lower()
    cid = uuid.uuid4().hex
    token = new_token()
    await gw.store.create(cid, hash_token(token), lang, customer)
    with contextlib.suppress(DependencyDown, DependencyError):
        await gw.deps.create_conversation(cid, lang, fresh=True)  # else created on the first turn
    await gw.hub.publish(AGENTS, {"type": "conversation", "conversation_id": cid, "status": "bot",
                                  "lang": lang, "at": time.time()})
    return {"conversation_id": cid, "token": token, "status": "bot"}


@router.get("/{cid}", dependencies=[Depends(limit_reads)], summary="Status of one's own conversation")
async def get_conversation(cid: ConversationId, rec: OwnedConversation) -> dict[str, Any]:
    return public_record(cid, rec)


@router.post("/{cid}/messages", response_model=TurnOut, dependencies=[Depends(limit_ip)],
             summary="Send a message; JSON reply, or SSE (intent, products, token…, done) with "
                     "Accept: text/event-stream",
             responses={200: {"content": {"text/event-stream": {"schema": {}}}}})
async def post_message(cid: ConversationId, request: Request, gw: GatewayDep, _: OwnedConversation,
                       body: MessageIn) -> Any:
    if len(body.text) > gw.s.max_text_chars:
        raise APIError(422, "text_too_long", f"text is longer than {gw.s.max_text_chars} characters")
    await gw.limiter.hit("conv", cid, gw.s.rate_limit_conv_per_min)
    if "text/event-stream" in request.headers.get("accept", ""):
        run = partial(gw.turns.handle, cid, body.text, client_message_id=body.client_message_id)
        return StreamingResponse(sse.streamed_turn(request, run), media_type="text/event-stream",
                                 headers=sse.HEADERS)
    result = await gw.turns.handle(cid, body.text, client_message_id=body.client_message_id)
    return JSONResponse(result.public())


@router.post("/{cid}/handoff", response_model=StatusOut, dependencies=[Depends(limit_ip)],
             summary="The shopper asks for a human: the conversation joins the agents' queue")
async def request_handoff(cid: ConversationId, gw: GatewayDep, rec: OwnedConversation,
                          body: HandoffIn | None = None) -> dict[str, Any]:
    reason = ((body.reason if body else None) or "requested")[:HANDOFF_REASON_CHARS]
    status = rec.get("status", "bot")
    if status == "bot":
        status = "pending_human"
        await gw.desk.set_status(cid, status, reason)
    return {"conversation_id": cid, "status": status}


@router.get("/{cid}/messages", response_model=Transcript, dependencies=[Depends(limit_reads)],
            summary="The conversation's transcript, in order")
async def get_messages(cid: ConversationId, gw: GatewayDep, rec: OwnedConversationOrQuery) -> dict[str, Any]:
    msgs, degraded = await gw.transcripts.fetch(cid, await gw.parked.pending(cid))
    msgs = [m for m in msgs if m["role"] == "user" or m["text"]]
    public = [{k: m.get(k) for k in ("role", "text", "created_at", "message_id")} for m in msgs]
    for src, dst in zip(msgs, public, strict=True):
        if src["role"] == "bot" and src.get("products"):
            dst["products"] = src["products"]
    return {"conversation_id": cid, "status": rec.get("status", "bot"), "messages": public, "degraded": degraded}


@router.get("/{cid}/events", dependencies=[Depends(limit_reads)],
            summary="SSE: agent messages and status changes, live (token via header or ?token=)",
            response_class=StreamingResponse, responses={200: sse.STREAM_DOC})
async def conversation_events(cid: ConversationId, request: Request, gw: GatewayDep,
                              rec: OwnedConversationOrQuery) -> StreamingResponse:
    topic = EventHub.conv_topic(cid)
    queue = gw.hub.subscribe(topic)
    return StreamingResponse(sse.live_events(gw.hub, request, topic, queue, {"status": rec.get("status", "bot")}),
                             media_type="text/event-stream", headers=sse.HEADERS)
