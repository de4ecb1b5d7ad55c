"""A lean HTTP/1.1 keep-alive client for JSON calls between kefu's own services (the gateway's hot path).

Why: measured on the 2-core box, an httpx.AsyncClient POST costs ~1.0 ms of client CPU and
~2.8 ms wall against a trivial FastAPI app; the same request over a kept-alive asyncio stream
costs ~0.07 ms CPU and ~0.3 ms wall. A turn makes three to four such calls, so httpx alone was
a third of the gateway's CPU per turn. This client does only what those calls need: plain
`http://` URLs, JSON bodies, Content-Length or chunked answers, a pool of idle connections,
and the turn's X-Request-ID forwarded. Anything else (https, streaming: the LLM) stays on
`kefu.http.make_async_client`.

Failures raise `LeanHTTPError` (an `OSError`), which the caller treats like any transport error.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from kefu import tracing
from kefu.logging import REQUEST_ID_HEADER, current_request_id

IDLE_S = 4.0  # below uvicorn's 5 s keep-alive, so a pooled connection is not closed under us
MAX_HEADER = 64 * 1024


class LeanHTTPError(ConnectionError):
    """Connection refused/reset/closed mid-answer, or an answer that is not HTTP/1.1."""


class LeanResponse:
    """The part of httpx.Response the gateway reads."""

    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _Conn:
    __slots__ = ("reader", "writer", "last")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.last = time.monotonic()

    def usable(self) -> bool:
        return (not self.writer.is_closing() and not self.reader.at_eof()
                and time.monotonic() - self.last < IDLE_S)

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:  # already gone
            pass


class LeanClient:
    """One pool per base URL; safe for any number of concurrent requests (one connection each)."""

    def __init__(self, base_url: str, max_idle: int = 64, headers: dict[str, str] | None = None,
                 name: str = "") -> None:
        u = urlsplit(base_url)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"lean client needs an http:// URL, got {base_url!r}")
        self.host = u.hostname
        self.port = u.port or 80
        self.prefix = u.path.rstrip("/")
        self.host_header = f"{self.host}:{self.port}".encode()
        self.name = name or f"{self.host}:{self.port}"  # the client span's name: "POST dialog"
        self.max_idle = max_idle
        # Sent on every request (the internal token): encoded once, not per call.
        self.extra_head = [f"{k}: {v}".encode("latin-1") for k, v in (headers or {}).items()]
        self._idle: deque[_Conn] = deque()
        self._closed = False

    async def _connect(self) -> _Conn:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEADER)
        except OSError as exc:
            raise LeanHTTPError(f"connect to {self.host}:{self.port} failed: {exc}") from exc
        return _Conn(reader, writer)

    def _take(self) -> _Conn | None:
        while self._idle:
            conn = self._idle.pop()  # most recently used: warmest, least likely to be closed
            if conn.usable():
                return conn
            conn.close()
        return None

    def _give(self, conn: _Conn) -> None:
        if self._closed or len(self._idle) >= self.max_idle:
            conn.close()
            return
        conn.last = time.monotonic()
        self._idle.append(conn)

    def _encode(self, method: str, path: str, json: Any, params: dict[str, Any] | None,
                trace_head: list[tuple[str, str]] | None = None) -> bytes:
        target = self.prefix + path
        if params:
            target += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        body = b"" if json is None else orjson.dumps(json)
        head = [f"{method} {target} HTTP/1.1".encode(), b"Host: " + self.host_header,
                b"Accept: application/json", b"Content-Length: " + str(len(body)).encode(), *self.extra_head]
        if json is not None:
            head.append(b"Content-Type: application/json")
        rid = current_request_id()
        if rid:
            head.append(f"{REQUEST_ID_HEADER}: {rid}".encode("latin-1", "replace"))
        for k, v in trace_head or ():
            head.append(f"{k}: {v}".encode("latin-1", "replace"))
        return b"\r\n".join(head) + b"\r\n\r\n" + body

    async def request(self, method: str, path: str, *, json: Any = None,
                      params: dict[str, Any] | None = None) -> LeanResponse:
        """Cancellation (the caller's time budget) closes the connection; it is never reused
        half-read. A pooled connection the server closed while idle is replaced, not reported.
        With tracing on, the call is a client span whose context travels as `traceparent`."""
        if not tracing.enabled():
            return await self._send(self._encode(method, path, json, params))
        with tracing.span(f"{method} {self.name}", {
                "http.request.method": method, "server.address": self.host, "server.port": self.port,
                "url.path": self.prefix + path}, kind=tracing.SpanKind.CLIENT) as s:
            resp = await self._send(self._encode(method, path, json, params, tracing.inject_headers()))
            tracing.mark_status(s, resp.status_code)
            return resp

    async def _send(self, payload: bytes) -> LeanResponse:
        conn = self._take()
        reused = conn is not None
        if conn is None:
            conn = await self._connect()
        done = False
        try:
            try:
                resp = await self._exchange(conn, payload)
            except _ClosedBeforeAnswer:
                if not reused:
                    raise LeanHTTPError("server closed the connection without answering") from None
                conn.close()
                conn = await self._connect()
                resp = await self._exchange(conn, payload)
            done = resp.headers.get("connection", "").lower() != "close"
            return resp
        except _ClosedBeforeAnswer as exc:
            raise LeanHTTPError("server closed the connection without answering") from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            if isinstance(exc, LeanHTTPError):
                raise
            raise LeanHTTPError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if done:
                self._give(conn)
            else:
                conn.close()

    async def _exchange(self, conn: _Conn, payload: bytes) -> LeanResponse:
        conn.writer.write(payload)
        await conn.writer.drain()
        try:
            head = await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _ClosedBeforeAnswer from exc
            raise
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise LeanHTTPError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._chunked(conn.reader)
        elif "content-length" in headers:
            body = await conn.reader.readexactly(int(headers["content-length"]))
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:  # no length: the body runs to the end of the connection
            body = await conn.reader.read()
            headers["connection"] = "close"
        return LeanResponse(status, headers, body)

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        out = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, if any
                    pass
                return bytes(out)
            out += await reader.readexactly(size)
            await reader.readexactly(2)

    async def aclose(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()


class _ClosedBeforeAnswer(Exception):
    """EOF before the first byte of the answer: on a pooled connection, the server had closed it."""
