"""Service-to-service authentication: one shared secret (KEFU_INTERNAL_TOKEN) that kefu's own
clients send on every internal call and that intent, dialog, retrieval and llm require on every
route but /healthz, /readyz, /metrics and the OpenAPI docs.

Why a shared secret and not mTLS: every kefu process already gets one environment (`kefu up`,
compose, the Helm Secret), so one random value there closes the internal ports to anyone who can
merely reach them (a fuzz run had deleted real products through retrieval) without a PKI.

Where the token comes from, first match wins:
1. KEFU_INTERNAL_TOKEN (the Helm Secret; `kefu up` sets it for its children);
2. the data dir's `internal-token` file (0600; `kefu up` and `kefu internal-token` create it, so
   docker-compose services sharing the data volume agree without any configuration);
3. none: the service is open, which `kefu serve` allows only on a loopback address (a single
   service in development and in tests). Bound to any other address it refuses to start.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import Depends, Request

from kefu.errors import APIError, error_responses
from kefu.settings import Settings

HEADER = "X-Kefu-Internal-Token"
TOKEN_FILE = "internal-token"


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def _read(path: Path) -> str | None:
    try:
        value = path.read_text().strip()
    except OSError:
        return None
    return value or None


def internal_token(settings: Settings) -> str | None:
    """The token this process sends and requires (None: not configured)."""
    return settings.internal_token.strip() or _read(token_path(settings.data_dir))


def ensure_token_file(data_dir: Path) -> str:
    """The data dir's token, created (random, 256 bits, mode 0600) if missing. The file is
    written with O_EXCL so two processes racing here end up with the same token."""
    path = token_path(data_dir)
    existing = _read(path)
    if existing:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path) or token
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


def headers(token: str | None) -> dict[str, str]:
    """What a kefu client adds to each internal request."""
    return {HEADER: token} if token else {}


def llm_headers(settings: Settings) -> dict[str, str]:
    """What kefu's clients send to KEFU_LLM_URL. The internal token goes only to a plain-HTTP URL
    (kefu's own llm service, or vLLM/SGLang inside the deployment's network): an https:// URL is
    a third party (the DeepSeek API), which must never learn the secret that opens kefu's internal
    routes. KEFU_LLM_API_KEY, when set, is sent as the Bearer key either way."""
    out: dict[str, str] = {}
    if settings.llm_url.strip().lower().startswith("http://"):
        out.update(headers(internal_token(settings)))
    if settings.llm_api_key.strip():
        out["Authorization"] = f"Bearer {settings.llm_api_key.strip()}"
    return out


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _presented(request: Request) -> str | None:
    value = request.headers.get(HEADER)
    if value:
        return value
    # OpenAI SDKs send their api_key as a bearer token: accept the token there too (the llm).
    scheme, _, rest = (request.headers.get("authorization") or "").partition(" ")
    return rest.strip() or None if scheme.lower() == "bearer" else None


async def require_internal_token(request: Request) -> None:
    """401 JSON unless the request carries the service's token (no token configured: open)."""
    expected: str | None = getattr(request.app.state, "internal_token", None)
    if not expected:
        return
    got = _presented(request)
    if got is None:
        raise APIError(401, "unauthorized", f"internal service: {HEADER} required")
    if not hmac.compare_digest(got.encode(), expected.encode()):
        raise APIError(401, "unauthorized", f"internal service: wrong {HEADER}")


# `app.include_router(router, dependencies=INTERNAL, responses=INTERNAL_RESPONSES)`: every route of
# the router, none of the ops routes.
INTERNAL: list[Any] = [Depends(require_internal_token)]
INTERNAL_RESPONSES = error_responses(401)  # the error model, as every other documented status


def protect(app: Any, settings: Settings) -> None:
    """Give an internal service's app its token (read once, not per request)."""
    app.state.internal_token = internal_token(settings)
