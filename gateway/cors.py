"""Two CORS policies by path. The shopper API (widget, shop search) answers the shops' origins
(KEFU_CORS_ORIGINS, `*` by default: the widget runs on the shop's own site). The agent API
(/v1/agent/…) answers only KEFU_AGENT_CORS_ORIGINS, by default none: the dashboard is served by
the gateway itself, and same-origin calls need no CORS, so no other site's page can read it."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from kefu.errors import error_body
from kefu.service import JsonCORSMiddleware

AGENT_PREFIX = "/v1/agent"
_COMMON = {"allow_credentials": False, "allow_headers": ["Authorization", "Content-Type", "X-Request-ID"],
           "expose_headers": ["X-Request-ID", "Retry-After"], "max_age": 600}


class SplitCORS:
    def __init__(self, app: ASGIApp, shop_origins: list[str], agent_origins: list[str]) -> None:
        self.app = app
        self.shop = JsonCORSMiddleware(app, allow_origins=shop_origins, allow_methods=["GET", "POST", "OPTIONS"],
                                   **_COMMON)  # type: ignore[arg-type]
        self.agent = (JsonCORSMiddleware(app, allow_origins=agent_origins,
                                     allow_methods=["GET", "POST", "DELETE", "OPTIONS"], **_COMMON)  # type: ignore[arg-type]
                      if agent_origins else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if not (path == AGENT_PREFIX or path.startswith(AGENT_PREFIX + "/")):
            await self.shop(scope, receive, send)
        elif self.agent is not None:
            await self.agent(scope, receive, send)
        elif _is_preflight(scope):
            await _refuse_preflight(send)
        else:  # no CORS headers: a browser keeps a cross-origin page from reading the answer
            await self.app(scope, receive, send)


def _is_preflight(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    return (scope.get("method") == "OPTIONS" and b"origin" in headers
            and b"access-control-request-method" in headers)


async def _refuse_preflight(send: Send) -> None:
    body = orjson.dumps(error_body(
        "cors_forbidden", "the agent API answers only the dashboard's own origin (KEFU_AGENT_CORS_ORIGINS)"))
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
