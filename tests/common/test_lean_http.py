"""The gateway's lean HTTP/1.1 client against a real uvicorn server (in this event loop):
keep-alive reuse, chunked answers, connections the server closed while pooled, budgets that
cancel mid-answer, refused connections, query strings and the forwarded request id."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from kefu.lean_http import LeanClient, LeanHTTPError
from kefu.logging import request_id_var


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app() -> FastAPI:
    app = FastAPI()
    seen: dict[str, int] = {}

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        peer = f"{request.client.host}:{request.client.port}"
        seen[peer] = seen.get(peer, 0) + 1
        return {"body": await request.json(), "peer": peer, "rid": request.headers.get("x-request-id"),
                "q": dict(request.query_params)}

    @app.get("/chunked")
    async def chunked() -> StreamingResponse:
        async def gen():
            for i in range(5):
                yield f'{{"part": {i}}}\n'.encode() * 300
        return StreamingResponse(gen(), media_type="application/x-ndjson")

    @app.get("/slow")
    async def slow() -> dict:
        await asyncio.sleep(2)
        return {"ok": True}

    @app.get("/missing")
    async def missing() -> dict:
        from fastapi import HTTPException
        raise HTTPException(404, "nope")

    return app


@pytest.fixture
async def server():
    port = _port()
    srv = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="warning",
                                        timeout_keep_alive=1))
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        await asyncio.sleep(0.02)
    yield port, srv
    srv.should_exit = True
    await task


async def test_keep_alive_chunked_and_errors(server) -> None:
    port, _ = server
    c = LeanClient(f"http://127.0.0.1:{port}")
    try:
        token = request_id_var.set("rid-123")
        try:
            r1 = await c.request("POST", "/echo", json={"text": "你好"}, params={"a": "1 2"})
        finally:
            request_id_var.reset(token)
        assert r1.status_code == 200
        b1 = r1.json()
        assert b1["body"] == {"text": "你好"} and b1["rid"] == "rid-123" and b1["q"] == {"a": "1 2"}
        r2 = await c.request("POST", "/echo", json={"n": 2})
        assert r2.json()["peer"] == b1["peer"], "the second call should reuse the kept-alive connection"
        # concurrent calls each get a connection; all answers arrive intact
        rs = await asyncio.gather(*(c.request("POST", "/echo", json={"i": i}) for i in range(20)))
        assert [r.json()["body"]["i"] for r in rs] == list(range(20))

        ch = await c.request("GET", "/chunked")
        assert ch.status_code == 200 and ch.content == b"".join(f'{{"part": {i}}}\n'.encode() * 300
                                                                for i in range(5))
        nf = await c.request("GET", "/missing")
        assert nf.status_code == 404 and nf.json()["detail"] == "nope"

        # the server closes idle connections after 1 s; pooled ones are replaced, not reported
        await asyncio.sleep(1.5)
        r3 = await c.request("POST", "/echo", json={"after": "idle"})
        assert r3.status_code == 200 and r3.json()["peer"] != b1["peer"]

        # a budget that runs out mid-answer: that connection is dropped, the next call is clean
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(c.request("GET", "/slow"), timeout=0.2)
        assert (await c.request("POST", "/echo", json={"x": 1})).json()["body"] == {"x": 1}
    finally:
        await c.aclose()


async def test_refused_and_bad_url() -> None:
    c = LeanClient(f"http://127.0.0.1:{_port()}")
    with pytest.raises(LeanHTTPError):
        await c.request("GET", "/")
    with pytest.raises(OSError):  # the gateway's breaker counts it like any transport error
        await c.request("GET", "/")
    with pytest.raises(ValueError):
        LeanClient("https://example.com")
