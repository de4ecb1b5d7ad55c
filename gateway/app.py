"""The gateway's FastAPI app: lifespan, readiness, CORS and the routers (`gateway.routers`).

Routes live in the routers by audience; the turn itself in `gateway.turn`; the parts the routes
use are built once in `gateway.state.Gateway` and reached through `gateway.deps`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy import text as sql_text

from gateway.config import GatewaySettings, get_gateway_settings
from gateway.cors import SplitCORS
from gateway.routers import agents, shop, shopper, static
from gateway.security import cors_origins
from gateway.state import Gateway
from kefu.db import get_engine
from kefu.service import Check
from kefu.service import create_app as create_service_app

# The gateway's own answers to malformed bodies (the other services answer 422 invalid_request).
VALIDATION_CODES = {"json_invalid": (400, "invalid_json")}


def _checks(app: FastAPI, settings: GatewaySettings) -> dict[str, object]:
    def gw() -> Gateway | None:
        return getattr(app.state, "gw", None)

    async def check_redis() -> Check:
        g = gw()
        if g is None:
            return Check(False, "starting")
        await asyncio.wait_for(g.redis.ping(), timeout=1.0)
        return Check(True)

    async def check_sql() -> Check:
        def ping() -> None:
            with get_engine(settings.sql_url).connect() as c:
                c.execute(sql_text("SELECT 1"))
        await asyncio.wait_for(asyncio.to_thread(ping), timeout=2.0)
        return Check(True)

    async def check_deps() -> Check:
        """Dependencies never make the gateway unready (it degrades), but /readyz says which are out."""
        g = gw()
        if g is None:
            return Check(False, "starting")
        detail: dict[str, object] = {name: b.snapshot() for name, b in g.deps.breakers.items()}
        detail["llm_enabled"] = settings.llm_enabled
        return Check(True, detail={"dependencies": detail})

    async def check_spool() -> Check:
        """Answered turns waiting in the SQL spool for dialog: ready (the gateway answers), but
        degraded until the replayer has handed them over."""
        g = gw()
        if g is None:
            return Check(False, "starting")
        detail = g.parked.status()
        return Check(True, detail={**detail, "degraded": bool(detail["spooled_turns"])})

    return {"redis": check_redis, "sql": check_sql, "dependencies": check_deps, "spool": check_spool}


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_gateway_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gw = Gateway(settings)
        app.state.gw = gw
        app.state.background = set()
        await gw.start()
        try:
            yield
        finally:
            await gw.stop()

    app = create_service_app(
        "gateway", title="kefu gateway",
        description="Public chat API, agent API, SSE streams, widget and demo shop.",
        lifespan=lifespan, max_body_bytes=settings.max_body_bytes, validation_codes=VALIDATION_CODES,
    )
    app.state.readiness_checks.update(_checks(app, settings))
    app.add_middleware(SplitCORS, shop_origins=cors_origins(settings.cors_origins),
                       agent_origins=cors_origins(settings.agent_cors_origins))
    for r in (shopper.router, agents.router, shop.router, static.router):
        app.include_router(r)
    return app
