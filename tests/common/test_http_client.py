"""Request ids travel from one service to the next through the shared httpx client."""

from __future__ import annotations

import httpx
from fastapi import Request

from kefu.http import make_async_client
from kefu.logging import request_id_var
from kefu.service import create_app


async def test_request_id_forwarded() -> None:
    downstream = create_app("down", title="down")

    @downstream.get("/who")
    async def who(request: Request) -> dict:
        return {"rid": request.headers.get("x-request-id")}

    client = make_async_client("http://down")
    client._transport = httpx.ASGITransport(app=downstream)  # in-process peer, real HTTP semantics
    token = request_id_var.set("turn-42")
    try:
        r = await client.get("/who")
    finally:
        request_id_var.reset(token)
    assert r.json() == {"rid": "turn-42"}
    await client.aclose()
