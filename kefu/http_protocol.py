"""uvicorn's HTTP/1.1 protocol with kefu's error body for requests that are not HTTP at all.

A malformed request line or header (`GET /\x00 HTTP/1.1`, a bare newline, garbage bytes) is
rejected by the parser before any ASGI code runs, so kefu's exception handlers never see it and
uvicorn writes its own plain-text "Invalid HTTP request received." — the one answer of a kefu
service that was not `{"error": {"code", "message"}}` (issue 19, found by the fuzz run). This
subclass changes only that answer; parsing, keep-alive and everything else are uvicorn's.
"""

from __future__ import annotations

import json
from typing import Any

try:  # uvicorn[standard] brings httptools, which "auto" picks; h11 is the pure-Python fallback
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - httptools is pinned in pyproject
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base  # type: ignore[assignment]


def error_400_bytes(msg: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A complete HTTP/1.1 400 answer whose body is kefu's error model; the connection closes
    because after a parse error the stream's framing cannot be trusted."""
    body = json.dumps({"error": {"code": "bad_request",
                                 "message": f"{msg.rstrip('.')}: not a valid HTTP/1.1 request"}}).encode()
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [b"content-type: application/json\r\n",
             b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
             b"connection: close\r\n\r\n"]
    return b"".join(head) + body


class JSONErrorHTTPProtocol(_Base):
    """Pass as `uvicorn.run(..., http=JSONErrorHTTPProtocol)`."""

    def send_400_response(self, msg: str) -> None:
        state: Any = self.server_state
        self.transport.write(error_400_bytes(msg, list(state.default_headers)))
        self.transport.close()
