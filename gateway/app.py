"""Gateway HTTP layer (thin): the contract's public API, agent API, SSE streams, static pages.

Domain work lives in orchestrator.py, security.py, store.py, transcripts.py; this file only
authenticates, parses, rate-limits and streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from redis.asyncio import Redis
from sqlalchemy import text as sql_text

from gateway import canned as canned_mod
from gateway.cache import ResponseCache
from gateway.clients import Dependencies, DependencyDown, DependencyError
from gateway.config import GatewaySettings, get_gateway_settings
from gateway.events import AGENTS, EventHub
from gateway.orchestrator import Orchestrator
from gateway.orders import OrderStore
from gateway.schemas import (
    AgentMessageIn,
    CreateConversationResponse,
    StatusOut,
    Transcript,
    TurnOut,
)
from gateway.security import AgentAuth, RateLimiter, bearer, cors_origins, hash_token, new_token, token_matches
from gateway.shop import CategoryIndex, page_products
from gateway.store import ConversationStore, public_record
from gateway.transcripts import Transcripts
from kefu.contracts import Turn
from kefu.db import get_engine
from kefu.errors import APIError
from kefu.service import Check
from kefu.service import create_app as create_service_app

log = logging.getLogger("kefu.gateway")

STATIC_DIR = Path(__file__).resolve().parent / "static"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
KEEPALIVE_S = 15.0


def sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


class Gateway:
    """Everything the routes need, built once in the lifespan."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.s = settings
        self.redis = Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=2.0,
                                    socket_connect_timeout=1.0, health_check_interval=30)
        self.deps = Dependencies(settings)
        get_engine(settings.sql_url)  # creates tables if missing
        self.store = ConversationStore(self.redis, settings.redis_prefix, settings.sql_url)
        self.hub = EventHub(self.redis, settings.redis_prefix)
        self.cache = ResponseCache(self.redis, settings.redis_prefix, settings.cache_ttl_s)
        self.orders = OrderStore(settings.sql_url)
        self.categories = CategoryIndex(self.deps)
        self.orch = Orchestrator(settings, self.deps, self.redis, self.store, self.hub, self.cache, self.orders)
        self.transcripts = Transcripts(self.deps, settings.sql_url)
        self.agents = AgentAuth(settings.sql_url, settings.agent_key)
        self.limiter = RateLimiter(self.redis, settings.redis_prefix, settings.rate_limits_enabled)

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self.hub.start()

    async def stop(self) -> None:
        await self.hub.stop()
        await self.deps.aclose()
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    # ------------------------------------------------------------------ auth helpers
    async def conversation(self, cid: str, request: Request, *, allow_query: bool = False) -> dict[str, Any]:
        """The conversation's record, if the caller holds its token (401 none, 403 wrong, 404 unknown)."""
        if len(cid) > 64 or not cid.replace("-", "").replace("_", "").isalnum():
            raise APIError(404, "not_found", "unknown conversation")
        token = bearer(request.headers.get("authorization"))
        if token is None and allow_query:
            token = request.query_params.get("token")
        rec = await self.store.get(cid)
        if rec is None:
            raise APIError(404, "not_found", "unknown conversation")
        if token is None:
            raise APIError(401, "unauthorized", "conversation token required (Authorization: Bearer TOKEN)",
                           headers={"WWW-Authenticate": "Bearer"})
        if not token_matches(token, rec.get("th", "")):
            raise APIError(403, "forbidden", "this token does not belong to the conversation")
        return rec

    async def agent(self, request: Request, *, allow_query: bool = False) -> str:
        key = bearer(request.headers.get("authorization"))
        if key is None and allow_query:
            key = request.query_params.get("key")
        return await self.agents.check(key)

    async def agent_conversation(self, cid: str) -> dict[str, Any]:
        rec = await self.store.get(cid) if len(cid) <= 64 else None
        if rec is None:
            raise APIError(404, "not_found", "unknown conversation")
        return rec

    async def limit_ip(self, request: Request, scope: str, limit: int) -> None:
        ip = request.client.host if request.client else "unknown"
        await self.limiter.hit(scope, ip, limit)


async def read_text_body(request: Request, max_chars: int) -> tuple[str, str | None]:
    """Parse {"text": ...} ourselves so bad bytes, bad JSON and empty text get precise 4xx answers."""
    raw = await request.body()
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise APIError(400, "bad_encoding", "request body is not valid UTF-8") from exc
    try:
        body = json.loads(decoded) if decoded.strip() else None
    except ValueError as exc:
        raise APIError(400, "invalid_json", "request body is not valid JSON") from exc
    if not isinstance(body, dict) or "text" not in body:
        raise APIError(422, "invalid_request", 'expected a JSON object {"text": "..."}')
    text = body["text"]
    if not isinstance(text, str):
        raise APIError(422, "invalid_request", "text must be a string")
    text = text.replace("\x00", "").strip()
    if not text:
        raise APIError(422, "empty_text", "text must not be empty")
    if len(text) > max_chars:
        raise APIError(422, "text_too_long", f"text is longer than {max_chars} characters")
    cmid = body.get("client_message_id")
    if cmid is not None and (not isinstance(cmid, str) or not 0 < len(cmid) <= 128):
        raise APIError(422, "invalid_request", "client_message_id must be a string of 1-128 characters")
    return text, cmid


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_gateway_settings()
    holder: dict[str, Gateway] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gw = Gateway(settings)
        holder["gw"] = gw
        app.state.gw = gw
        await gw.start()
        try:
            yield
        finally:
            await gw.stop()

    async def check_redis() -> Check:
        gw = holder.get("gw")
        if gw is None:
            return Check(False, "starting")
        await asyncio.wait_for(gw.redis.ping(), timeout=1.0)
        return Check(True)

    async def check_sql() -> Check:
        def ping() -> None:
            with get_engine(settings.sql_url).connect() as c:
                c.execute(sql_text("SELECT 1"))
        await asyncio.wait_for(asyncio.to_thread(ping), timeout=2.0)
        return Check(True)

    async def check_deps() -> Check:
        """Dependencies never make the gateway unready (it degrades), but /readyz says which are out."""
        gw = holder.get("gw")
        if gw is None:
            return Check(False, "starting")
        detail = {name: b.snapshot() for name, b in gw.deps.breakers.items()}
        detail["llm_enabled"] = settings.llm_enabled  # type: ignore[assignment]
        return Check(True, detail={"dependencies": detail})

    app = create_service_app(
        "gateway", title="kefu gateway",
        description="Public chat API, agent API, SSE streams, widget and demo shop.",
        checks={"redis": check_redis, "sql": check_sql, "dependencies": check_deps},
        lifespan=lifespan, max_body_bytes=settings.max_body_bytes,
    )
    origins = cors_origins(settings.cors_origins)
    app.add_middleware(
        CORSMiddleware, allow_origins=origins, allow_credentials=False,
        allow_methods=["GET", "POST", "OPTIONS"], allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"], max_age=600,
    )

    def gw_of(request: Request) -> Gateway:
        return request.app.state.gw

    # ================================================================== shopper API
    @app.post("/v1/conversations", status_code=201, response_model=CreateConversationResponse,
              tags=["conversations"], summary="Start a conversation; the token authorises its other endpoints")
    async def create_conversation(request: Request) -> JSONResponse:
        gw = gw_of(request)
        await gw.limit_ip(request, "newconv", settings.rate_limit_new_conv_per_min)
        raw = await request.body()
        lang = settings.shop_lang
        if raw.strip():
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise APIError(400, "invalid_json", "request body is not valid JSON") from exc
            if isinstance(body, dict) and body.get("lang") in ("en", "zh"):
                lang = body["lang"]
        cid = uuid.uuid4().hex
        token = new_token()
        await gw.store.create(cid, hash_token(token), lang)
        with contextlib.suppress(DependencyDown, DependencyError):
            await gw.deps.create_conversation(cid, lang, fresh=True)  # else created on the first turn
        await gw.hub.publish(AGENTS, {"type": "conversation", "conversation_id": cid, "status": "bot",
                                      "lang": lang, "at": time.time()})
        return JSONResponse({"conversation_id": cid, "token": token, "status": "bot"}, status_code=201)

    @app.get("/v1/conversations/{cid}", tags=["conversations"], summary="Status of one's own conversation")
    async def get_conversation(cid: str, request: Request) -> dict[str, Any]:
        rec = await gw_of(request).conversation(cid, request)
        return public_record(cid, rec)

    @app.post("/v1/conversations/{cid}/messages", response_model=TurnOut, tags=["conversations"],
              summary="Send a message; JSON reply, or SSE (intent, products, token…, done) with "
                      "Accept: text/event-stream",
              openapi_extra={"requestBody": {"content": {"application/json": {"schema": {
                  "type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}}}}})
    async def post_message(cid: str, request: Request):  # noqa: ANN202
        gw = gw_of(request)
        await gw.limit_ip(request, "ip", settings.rate_limit_ip_per_min)
        await gw.conversation(cid, request)
        text, cmid = await read_text_body(request, settings.max_text_chars)
        await gw.limiter.hit("conv", cid, settings.rate_limit_conv_per_min)
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(stream_turn(gw, cid, text, cmid), media_type="text/event-stream",
                                     headers=SSE_HEADERS)
        result = await gw.orch.handle(cid, text, client_message_id=cmid)
        return JSONResponse(result.public())

    async def stream_turn(gw: Gateway, cid: str, text: str, cmid: str | None) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def emit(event: str, data: dict[str, Any]) -> None:
            queue.put_nowait((event, data))

        async def run() -> None:
            try:
                result = await gw.orch.handle(cid, text, emit, client_message_id=cmid)
                queue.put_nowait(("done", result.public()))
            except Exception as exc:  # the turn failed unexpectedly: say so, never hang the stream
                log.exception("streamed turn failed")
                queue.put_nowait(("error", {"error": {"code": "internal_error", "message": str(exc)[:200]}}))

        # The turn runs to completion (and is recorded) even if the shopper closes the stream.
        task = asyncio.create_task(run())
        app.state.background = getattr(app.state, "background", set())
        app.state.background.add(task)
        task.add_done_callback(app.state.background.discard)
        while True:
            event, data = await queue.get()
            chunk = [sse(event, data)]
            # everything already queued goes out in one write (a template's tokens arrive at once)
            while event not in ("done", "error") and not queue.empty():
                event, data = queue.get_nowait()
                chunk.append(sse(event, data))
            yield b"".join(chunk)
            if event in ("done", "error"):
                return

    @app.post("/v1/conversations/{cid}/handoff", tags=["conversations"],
              summary="The shopper asks for a human: the conversation joins the agents' queue")
    async def request_handoff(cid: str, request: Request) -> dict[str, Any]:
        gw = gw_of(request)
        await gw.limit_ip(request, "ip", settings.rate_limit_ip_per_min)
        rec = await gw.conversation(cid, request)
        reason = "requested"
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw.decode("utf-8"))
                if isinstance(body, dict) and isinstance(body.get("reason"), str):
                    reason = body["reason"][:64] or reason
            except (UnicodeDecodeError, ValueError) as exc:
                raise APIError(400, "invalid_json", "request body is not valid JSON") from exc
        status = rec.get("status", "bot")
        if status == "bot":
            status = "pending_human"
            await gw.orch.change_status(cid, status, reason)
        return {"conversation_id": cid, "status": status}

    @app.get("/v1/conversations/{cid}/messages", response_model=Transcript, tags=["conversations"],
             summary="The conversation's transcript, in order")
    async def get_messages(cid: str, request: Request) -> dict[str, Any]:
        gw = gw_of(request)
        rec = await gw.conversation(cid, request, allow_query=True)
        msgs, degraded = await gw.transcripts.fetch(cid, await gw.orch.pending(cid))
        msgs = [m for m in msgs if m["role"] == "user" or m["text"]]
        public = [{k: m.get(k) for k in ("role", "text", "created_at", "message_id")} for m in msgs]
        for src, dst in zip(msgs, public, strict=True):
            if src["role"] == "bot" and src.get("products"):
                dst["products"] = src["products"]
        return {"conversation_id": cid, "status": rec.get("status", "bot"), "messages": public,
                "degraded": degraded}

    @app.get("/v1/conversations/{cid}/events", tags=["conversations"],
             summary="SSE: agent messages and status changes, live (token via header or ?token=)")
    async def conversation_events(cid: str, request: Request) -> StreamingResponse:
        gw = gw_of(request)
        rec = await gw.conversation(cid, request, allow_query=True)
        topic = EventHub.conv_topic(cid)
        queue = gw.hub.subscribe(topic)
        return StreamingResponse(event_stream(gw, request, topic, queue, {"status": rec.get("status", "bot")}),
                                 media_type="text/event-stream", headers=SSE_HEADERS)

    async def event_stream(gw: Gateway, request: Request, topic: str, queue: asyncio.Queue,
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
            gw.hub.unsubscribe(topic, queue)

    # ================================================================== agent API
    @app.get("/v1/agent/conversations", tags=["agents"], summary="Conversations, newest activity first")
    async def agent_list(request: Request, status: str | None = Query(None, pattern="^(bot|pending_human|human)$"),
                         limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
        gw = gw_of(request)
        await gw.agent(request)
        return {"conversations": await gw.store.list(status, limit)}

    @app.get("/v1/agent/conversations/{cid}", tags=["agents"],
             summary="Transcript plus the bot's evidence per turn "
                     "(intent, confidence, stage, slots, products, degraded)")
    async def agent_detail(cid: str, request: Request) -> dict[str, Any]:
        gw = gw_of(request)
        await gw.agent(request)
        rec = await gw.agent_conversation(cid)
        msgs, degraded = await gw.transcripts.fetch(cid, await gw.orch.pending(cid))
        for m in msgs:
            ev = m.get("evidence") or {}
            if m["role"] == "bot" and ev:
                m["evidence"] = {
                    "intent": ev.get("intent") or {"name": m.get("intent"), "confidence": m.get("confidence"),
                                                   "stage": m.get("stage")},
                    "slots": ev.get("slots", m.get("slots", {})), "products": ev.get("products", []),
                    "degraded": ev.get("degraded", []), "source": ev.get("source"),
                    "order_id": ev.get("order_id"), "order_status": ev.get("order_status"),
                    "policy_section": ev.get("policy_section"), "handoff_reason": ev.get("handoff_reason"),
                    "grounding": ev.get("grounding"), "standalone": ev.get("standalone"),
                    "suppressed": ev.get("suppressed"),
                }
        out = public_record(cid, rec)
        last_bot = next((m for m in reversed(msgs) if m["role"] == "bot" and m.get("slots")), None)
        out.update({"messages": msgs, "degraded": degraded, "slots": (last_bot or {}).get("slots", {})})
        return out

    async def _status_change(request: Request, cid: str, status: str, reason: str) -> dict[str, Any]:
        gw = gw_of(request)
        agent = await gw.agent(request)
        await gw.agent_conversation(cid)
        await gw.orch.change_status(cid, status, f"{reason}:{agent}")
        return StatusOut(conversation_id=cid, status=status).model_dump()

    @app.post("/v1/agent/conversations/{cid}/takeover", tags=["agents"],
              summary="An agent takes over: the bot stops replying at once")
    async def agent_takeover(cid: str, request: Request) -> dict[str, Any]:
        return await _status_change(request, cid, "human", "takeover")

    @app.post("/v1/agent/conversations/{cid}/release", tags=["agents"], summary="Hand back to the bot")
    async def agent_release(cid: str, request: Request) -> dict[str, Any]:
        return await _status_change(request, cid, "bot", "release")

    @app.post("/v1/agent/conversations/{cid}/messages", tags=["agents"], status_code=201,
              summary="Send an agent message; it reaches the shopper's /events stream live")
    async def agent_send(cid: str, body: AgentMessageIn, request: Request) -> JSONResponse:
        gw = gw_of(request)
        agent = await gw.agent(request)
        await gw.agent_conversation(cid)
        text = body.text.strip()
        if not text:
            raise APIError(422, "empty_text", "text must not be empty")
        return JSONResponse(await gw.orch.agent_message(cid, text[: settings.max_text_chars], agent),
                            status_code=201)

    @app.get("/v1/agent/conversations/{cid}/suggestion", tags=["agents"],
             summary="A reply drafted by the generation service from the conversation's facts")
    async def agent_suggestion(cid: str, request: Request) -> dict[str, Any]:
        gw = gw_of(request)
        await gw.agent(request)
        await gw.agent_conversation(cid)
        msgs, _ = await gw.transcripts.fetch(cid, await gw.orch.pending(cid))
        users = [m for m in msgs if m["role"] == "user"]
        if not users:
            return {"text": "", "source": "none", "reason": "the shopper has not written yet"}
        history: list[Turn] = []
        for m in msgs[-10:]:
            if m["role"] == "user":
                history.append(Turn(user=m["text"]))
            elif history:
                history[-1].bot = m["text"]
        return await gw.orch.suggest(cid, users[-1]["text"], history[:-1])

    @app.get("/v1/agent/canned", tags=["agents"], summary="Canned responses")
    async def agent_canned(request: Request, lang: str | None = Query(None, pattern="^(en|zh)$")) -> dict[str, Any]:
        await gw_of(request).agent(request)
        return {"responses": canned_mod.canned(lang)}

    @app.get("/v1/agent/stream", tags=["agents"],
             summary="SSE for the dashboard: every message and status change (key via header or ?key=)")
    async def agent_stream(request: Request) -> StreamingResponse:
        gw = gw_of(request)
        await gw.agent(request, allow_query=True)
        queue = gw.hub.subscribe(AGENTS)
        return StreamingResponse(event_stream(gw, request, AGENTS, queue, {"ok": True}),
                                 media_type="text/event-stream", headers=SSE_HEADERS)

    @app.get("/v1/agent/stats", tags=["agents"], summary="Gateway counters for the dashboard")
    async def agent_stats(request: Request) -> dict[str, Any]:
        gw = gw_of(request)
        await gw.agent(request)
        o = gw.orch
        return {"cache_hit_rate": round(gw.cache.hit_rate, 4), "cache_lookups": gw.cache.lookups,
                "grounding_checked": o.grounding_checked, "grounding_rejected": o.grounding_rejected,
                "breakers": {k: b.snapshot() for k, b in gw.deps.breakers.items()}}

    # ================================================================== shop
    @app.get("/v1/shop/config", tags=["shop"], summary="Shop name and language for the widget")
    async def shop_config() -> dict[str, Any]:
        return {"shop_name": settings.shop_name, "lang": settings.shop_lang, "llm": settings.llm_enabled}

    @app.get("/v1/shop/products", tags=["shop"], summary="Catalog page for the demo shop (from retrieval)")
    async def shop_products(request: Request, limit: int = Query(24, ge=1, le=100), offset: int = Query(0, ge=0),
                            category: str | None = Query(None, max_length=128)) -> Any:
        gw = gw_of(request)
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if category:
            params["category"] = category
        try:
            data = await gw.deps.list_products(params)
        except DependencyDown as exc:
            raise APIError(503, "unavailable", f"catalog unavailable ({exc.reason})",
                           headers={"Retry-After": "5"}) from exc
        except DependencyError as exc:
            raise APIError(exc.status, "bad_request", "catalog rejected the request",
                           extra={"detail": exc.body}) from exc
        products, total = page_products(data)
        out: dict[str, Any] = {"products": products, "total": total if total is not None else len(products),
                               "limit": limit, "offset": offset}
        try:
            cats, partial = await gw.categories.get(None if category else total)
            out["categories"] = [c["name"] for c in cats]
            out["category_counts"] = cats
            if partial:
                out["categories_partial"] = True
        except (DependencyDown, DependencyError) as exc:
            log.warning("category list unavailable: %s", exc)  # the page still answers
        return out

    @app.get("/v1/shop/products/{product_id}", tags=["shop"], summary="One product (for /p/{id} pages)")
    async def shop_product(product_id: str, request: Request) -> Any:
        gw = gw_of(request)
        if not 0 < len(product_id) <= 64:
            raise APIError(404, "not_found", "unknown product")
        try:
            p = await gw.deps.get_product(product_id)
        except DependencyDown as exc:
            raise APIError(503, "unavailable", f"catalog unavailable ({exc.reason})",
                           headers={"Retry-After": "5"}) from exc
        except DependencyError as exc:
            if exc.status == 404:
                raise APIError(404, "not_found", f"no product with id {product_id!r}") from exc
            raise APIError(400, "bad_request", "catalog rejected the request", extra={"detail": exc.body}) from exc
        if isinstance(p, dict) and isinstance(p.get("product"), dict):
            p = p["product"]
        if not isinstance(p, dict) or not p.get("id"):
            raise APIError(404, "not_found", f"no product with id {product_id!r}")
        return {k: p.get(k) for k in ("id", "title", "description", "price", "currency", "category", "brand",
                                      "stock", "url", "image_url", "attributes")}

    # ================================================================== static
    def static_file(name: str, media_type: str | None = None) -> FileResponse:
        path = (STATIC_DIR / name).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            raise APIError(404, "not_found", f"static file {name!r} is not there")
        return FileResponse(path, media_type=media_type)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return static_file("shop.html", "text/html; charset=utf-8")

    @app.get("/p/{product_id}", include_in_schema=False)
    async def product_page(product_id: str) -> FileResponse:
        """The catalog's product URLs (/p/P00001): shop.js renders the product for that path."""
        return static_file("shop.html", "text/html; charset=utf-8")

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        resp = static_file("widget.js", "application/javascript; charset=utf-8")
        resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp

    @app.get("/agent", include_in_schema=False)
    async def agent_page() -> FileResponse:
        return static_file("agent.html", "text/html; charset=utf-8")

    @app.get("/static/{path:path}", include_in_schema=False)
    async def static(path: str) -> FileResponse:
        return static_file(path)

    return app

