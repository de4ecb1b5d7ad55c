"""App factory shared by the five services: /healthz, /readyz, /metrics, error model,
request ids, request metrics and a body-size limit, so each app.py only adds its own routes."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu import tracing
from kefu.errors import COMMON_ERRORS, error_body, install_error_handlers
from kefu.logging import REQUEST_ID_HEADER, accept_request_id, request_id_var
from kefu.metrics import LATENCY, REQUESTS, metrics_response

log = logging.getLogger("kefu.service")


@dataclass
class Check:
    """Result of one readiness check; `detail` is reported in /readyz either way."""

    ok: bool
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


ReadinessCheck = Callable[[], Awaitable[Check]]


class KefuMiddleware:
    """Pure ASGI (streaming-safe): request id in/out, metrics, body limit (413)."""

    def __init__(self, app: ASGIApp, service: str, max_body_bytes: int) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = accept_request_id(headers.get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1"))
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status_holder = {"status": 500}
        method = scope.get("method", "GET")

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject_413(send, rid)
            request_id_var.reset(token)
            return

        received = 0

        async def limited_receive() -> Message:
            """Counts what actually arrives, so a chunked body (no Content-Length) is bounded too:
            past the limit the read fails with a 413 (an HTTPException, which FastAPI's body
            parsing passes on as is) instead of a disconnect the route would see as a 500."""
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise StarletteHTTPException(413, f"request body exceeds {self.max_body_bytes} bytes")
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                hdrs = list(message.get("headers", []))
                hdrs.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                message = {**message, "headers": hdrs}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - start
            REQUESTS.labels(self.service, method, path, str(status_holder["status"])).inc()
            LATENCY.labels(self.service, method, path).observe(elapsed)
            request_id_var.reset(token)

    async def _reject_413(self, send: Send, rid: str) -> None:
        body = orjson.dumps(
            error_body("payload_too_large", f"request body exceeds {self.max_body_bytes} bytes")
        )
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (REQUEST_ID_HEADER.encode(), rid.encode()),
            ],
        })
        await send({"type": "http.response.body", "body": body})


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, its preflight refusals in the error model (they were plain
    text "Disallowed CORS method", the one non-JSON error body a browser could get)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        resp = super().preflight_response(request_headers)
        if resp.status_code < 400:
            return resp
        headers = {k: v for k, v in resp.headers.items() if k.lower() not in ("content-type", "content-length")}
        return JSONResponse(error_body("cors_rejected", bytes(resp.body).decode("utf-8", "replace")),
                            status_code=resp.status_code, headers=headers)


def create_app(
    service: str,
    *,
    title: str,
    version: str = "0.1.0",
    description: str = "",
    checks: dict[str, ReadinessCheck] | None = None,
    lifespan: Any = None,
    max_body_bytes: int = 1024 * 1024,
    validation_codes: dict[str, tuple[int, str]] | None = None,
) -> FastAPI:
    # strict_content_type=False: a JSON body is read as JSON whatever Content-Type the client sent
    # (curl -d sends form encoding), as every kefu service did before it used body models.
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan,
                  strict_content_type=False, responses=COMMON_ERRORS)
    install_error_handlers(app, validation_codes)
    app.state.readiness_checks = dict(checks or {})
    app.state.service_name = service

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["ops"], summary="Readiness: dependencies answer (503 with the reason if not)")
    async def readyz() -> JSONResponse:
        results: dict[str, Any] = {}
        reasons: list[str] = []
        for name, check in app.state.readiness_checks.items():
            try:
                res = await check()
            except Exception as exc:  # a check must never turn readiness into a 500
                log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
                res = Check(False, f"{type(exc).__name__}")  # the text (hosts, paths) stays in the log
            results[name] = {"ok": res.ok, **({"reason": res.reason} if res.reason else {}), **res.detail}
            if not res.ok:
                reasons.append(f"{name}: {res.reason or 'not ready'}")
        if reasons:
            body = error_body("not_ready", "; ".join(reasons))
            body.update({"service": service, "checks": results})
            return JSONResponse(body, status_code=503)
        degraded = any(r.get("degraded") is True for r in results.values())
        return JSONResponse({"status": "degraded" if degraded else "ready", "service": service,
                             "checks": results})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition"}})
    async def metrics():
        return metrics_response()

    app.add_middleware(KefuMiddleware, service=service, max_body_bytes=max_body_bytes)
    tracing.instrument_app(app)  # server spans when this process traces (kefu.tracing)
    return app
