"""The agents' API (the dashboard): conversations with the bot's evidence, takeover/release,
agent messages, a drafted reply, canned responses, the live stream, counters. Every route needs
an agent key."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from gateway import canned as canned_mod
from gateway import sse
from gateway.clients import DependencyDown, DependencyError
from gateway.deps import Agent, AgentOrQuery, ConversationId, GatewayDep, agent_conversation
from gateway.events import AGENTS
from gateway.schemas import AgentMessageIn, KbDocumentUpload, KbQuestionIn, StatusOut
from gateway.state import Gateway
from gateway.store import public_record
from kefu.contracts import Turn
from kefu.errors import APIError, error_responses
from kefu.vocab import detect_lang

log = logging.getLogger("kefu.gateway")
router = APIRouter(prefix="/v1/agent", tags=["agents"], responses=error_responses(401, 403, 404))
AgentConversation = Annotated[dict[str, Any], Depends(agent_conversation)]
EVIDENCE_KEYS = ("slots", "products", "degraded", "source", "order_id", "order_status", "policy_section",
                 "handoff_reason", "grounding", "standalone", "suppressed", "move", "outcome", "verified",
                 "order_found", "verify_failed", "locked", "offer", "action", "refusal", "goal", "signed_in",
                 "passages", "knowledge")
SUGGEST_WINDOW = 10


@router.get("/conversations", summary="Conversations, newest activity first")
async def agent_list(gw: GatewayDep, _: Agent,
                     status: str | None = Query(None, pattern="^(bot|pending_human|human)$"),
                     limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    return {"conversations": await gw.store.list(status, limit)}


def _evidence(m: dict[str, Any]) -> dict[str, Any]:
    """A bot message's evidence as the dashboard reads it (older rows lack some keys)."""
    ev = m.get("evidence") or {}
    out = {k: ev.get(k) for k in EVIDENCE_KEYS}
    out["intent"] = ev.get("intent") or {"name": m.get("intent"), "confidence": m.get("confidence"),
                                         "stage": m.get("stage")}
    out["slots"] = ev.get("slots", m.get("slots", {}))
    out["products"] = ev.get("products", [])
    out["degraded"] = ev.get("degraded", [])
    return out


@router.get("/conversations/{cid}",
            summary="Transcript plus the bot's evidence per turn (intent, confidence, stage, slots, products, "
                    "degraded)")
async def agent_detail(cid: ConversationId, gw: GatewayDep, _: Agent, rec: AgentConversation) -> dict[str, Any]:
    msgs, degraded = await gw.transcripts.fetch(cid, await gw.parked.pending(cid))
    for m in msgs:
        if m["role"] == "bot" and m.get("evidence"):
            m["evidence"] = _evidence(m)
    out = public_record(cid, rec)
    last_bot = next((m for m in reversed(msgs) if m["role"] == "bot" and m.get("slots")), None)
    out.update({"messages": msgs, "degraded": degraded, "slots": (last_bot or {}).get("slots", {})})
    return out


async def _status(gw: Gateway, cid: str, agent: str, status: str, reason: str) -> dict[str, Any]:
    await gw.desk.set_status(cid, status, f"{reason}:{agent}")
    return {"conversation_id": cid, "status": status}


@router.post("/conversations/{cid}/takeover", response_model=StatusOut,
             summary="An agent takes over: the bot stops replying at once")
async def agent_takeover(cid: ConversationId, gw: GatewayDep, agent: Agent, _: AgentConversation) -> dict[str, Any]:
    return await _status(gw, cid, agent, "human", "takeover")


@router.post("/conversations/{cid}/release", response_model=StatusOut, summary="Hand back to the bot")
async def agent_release(cid: ConversationId, gw: GatewayDep, agent: Agent, _: AgentConversation) -> dict[str, Any]:
    return await _status(gw, cid, agent, "bot", "release")


@router.post("/conversations/{cid}/messages", status_code=201,
             summary="Send an agent message; it reaches the shopper's /events stream live")
async def agent_send(cid: ConversationId, gw: GatewayDep, agent: Agent, _: AgentConversation,
                     body: AgentMessageIn) -> dict[str, Any]:
    if len(body.text) > gw.s.max_text_chars:  # the shopper's limit too; never cut an agent's words silently
        raise APIError(422, "text_too_long", f"text is longer than {gw.s.max_text_chars} characters")
    return await gw.desk.send(cid, body.text, agent)


def _history(msgs: list[dict[str, Any]]) -> list[Turn]:
    history: list[Turn] = []
    for m in msgs[-SUGGEST_WINDOW:]:
        if m["role"] == "user":
            history.append(Turn(user=m["text"]))
        elif history:
            history[-1].bot = m["text"]
    return history


@router.get("/conversations/{cid}/suggestion",
            summary="A reply drafted by the generation service from the conversation's facts")
async def agent_suggestion(cid: ConversationId, gw: GatewayDep, _: Agent, __: AgentConversation) -> dict[str, Any]:
    msgs, _degraded = await gw.transcripts.fetch(cid, await gw.parked.pending(cid))
    users = [m for m in msgs if m["role"] == "user"]
    if not users:
        return {"text": "", "source": "none", "reason": "the shopper has not written yet"}
    return await gw.turns.suggest(cid, users[-1]["text"], _history(msgs)[:-1])


@router.get("/canned", summary="Canned responses")
async def agent_canned(_: Agent, lang: str | None = Query(None, pattern="^(en|zh)$")) -> dict[str, Any]:
    return {"responses": canned_mod.canned(lang)}


@router.get("/stream", summary="SSE for the dashboard: every message and status change (key via header or ?key=)",
            response_class=StreamingResponse, responses={200: sse.STREAM_DOC})
async def agent_stream(request: Request, gw: GatewayDep, _: AgentOrQuery) -> StreamingResponse:
    queue = gw.hub.subscribe(AGENTS)
    return StreamingResponse(sse.live_events(gw.hub, request, AGENTS, queue, {"ok": True}),
                             media_type="text/event-stream", headers=sse.HEADERS)


@router.get("/stats", summary="Gateway counters for the dashboard")
async def agent_stats(gw: GatewayDep, _: Agent) -> dict[str, Any]:
    return {"cache_hit_rate": round(gw.cache.hit_rate, 4), "cache_lookups": gw.cache.lookups,
            "grounding_checked": gw.phraser.checked, "grounding_rejected": gw.phraser.rejected,
            "breakers": {k: b.snapshot() for k, b in gw.deps.breakers.items()}}


async def _kb(call: Any) -> Any:
    """The retrieval service's answer, its 4xx passed on as ours, an outage as a 503."""
    try:
        return await call
    except DependencyError as exc:
        err = (exc.body or {}).get("error") if isinstance(exc.body, dict) else None
        raise APIError(exc.status, (err or {}).get("code", "invalid_request"),
                       (err or {}).get("message", "the knowledge base refused the request")) from None
    except DependencyDown as exc:
        log.warning("knowledge base unavailable: %s", exc)  # the reason is for the log, not the client
        raise APIError(503, "knowledge_base_unavailable", "the knowledge base is briefly unavailable",
                       headers={"Retry-After": "5"}) from None


@router.get("/kb/documents", summary="The knowledge base's documents: source, title, language, version, passages")
async def kb_documents(gw: GatewayDep, _: Agent) -> dict[str, Any]:
    return await _kb(gw.deps.kb("GET"))


@router.post("/kb/documents", status_code=201,
             summary="Import or re-import one help document (Markdown, HTML, text or FAQ CSV); indexed at once")
async def kb_upload(gw: GatewayDep, _: Agent, body: KbDocumentUpload) -> dict[str, Any]:
    return await _kb(gw.deps.kb("POST", body=body.model_dump(exclude_none=True)))


@router.delete("/kb/documents/{document_id}", summary="Remove a document and its passages")
async def kb_delete(document_id: str, gw: GatewayDep, _: Agent) -> dict[str, Any]:
    if len(document_id) > 64 or not document_id.isalnum():
        raise APIError(404, "not_found", f"no document {document_id[:64]!r}")
    return await _kb(gw.deps.kb("DELETE", f"/{document_id}"))


@router.post("/kb/search", summary="What the bot would find in the knowledge base for a question")
async def kb_search(gw: GatewayDep, _: Agent, body: KbQuestionIn) -> dict[str, Any]:
    lang = body.lang or detect_lang(body.question)
    passages = await _kb(gw.deps.kb_search(body.question, lang, body.intent, body.k))
    return {"passages": passages, "answered": bool(passages), "lang": lang}
