"""httpx clients for service-to-service calls: bounded timeouts, retries on connect errors,
and the turn's X-Request-ID forwarded so one request can be followed through every log.

The gateway's per-turn JSON calls use `kefu.lean_http.LeanClient` instead (same request-id
forwarding, a tenth of httpx's CPU per call); httpx stays for https, streaming and the LLM."""

from __future__ import annotations

import httpx

from kefu.logging import REQUEST_ID_HEADER, current_request_id


async def _forward_request_id(request: httpx.Request) -> None:
    rid = current_request_id()
    if rid and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = rid


def _forward_request_id_sync(request: httpx.Request) -> None:
    rid = current_request_id()
    if rid and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = rid


def make_async_client(
    base_url: str = "",
    timeout_s: float = 5.0,
    connect_timeout_s: float = 1.0,
    retries: int = 2,
    max_connections: int = 200,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """Retries cover connection failures only (idempotency of POSTs is the caller's concern).
    `headers` go on every request: `kefu.service_auth.headers(token)` for kefu's own services,
    never for an outside upstream (it must not learn the internal token)."""
    transport = httpx.AsyncHTTPTransport(
        retries=retries,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        transport=transport,
        headers=headers,
        event_hooks={"request": [_forward_request_id]},
    )


def make_client(base_url: str = "", timeout_s: float = 5.0, retries: int = 2,
                headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(timeout_s, connect=1.0),
        transport=httpx.HTTPTransport(retries=retries),
        event_hooks={"request": [_forward_request_id_sync]},
    )
