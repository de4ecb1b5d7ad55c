"""The shared app factory: ops endpoints, error model, request ids, body limit."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from kefu.errors import APIError
from kefu.logging import mask_pii
from kefu.service import Check, create_app


class Echo(BaseModel):
    text: str


def make_app(ready: bool = True) -> FastAPI:
    async def dep_check() -> Check:
        return Check(ready, "" if ready else "redis: connection refused", {"version": "v1"})

    app = create_app("test", title="t", checks={"redis": dep_check}, max_body_bytes=1000)

    @app.post("/echo")
    async def echo(body: Echo) -> dict:
        if body.text == "teapot":
            raise APIError(418, "teapot", "I am a teapot")
        if body.text == "boom":
            raise RuntimeError("secret internals")
        return {"text": body.text}

    return app


@pytest.fixture
def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(), raise_app_exceptions=False),
                             base_url="http://t")


async def test_health_ready_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "service": "test"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["redis"]["version"] == "v1"
    await client.post("/echo", json={"text": "x"})
    assert 'route="/echo"' in (await client.get("/metrics")).text


async def test_readyz_503_with_reason() -> None:
    app = make_app(ready=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"] == {"code": "not_ready", "message": "redis: redis: connection refused"}


async def test_error_model(client: httpx.AsyncClient) -> None:
    r = await client.post("/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert "JSON" in r.json()["error"]["message"]
    r = await client.post("/echo", json={})
    assert r.status_code == 422 and "text" in r.json()["error"]["message"]
    r = await client.post("/echo", json={"text": "teapot"})
    assert r.status_code == 418 and r.json() == {"error": {"code": "teapot", "message": "I am a teapot"}}
    r = await client.post("/echo", json={"text": "boom"})
    assert r.status_code == 500 and "secret" not in r.text and r.json()["error"]["code"] == "internal_error"
    r = await client.get("/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_body_limit_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/echo", json={"text": "x" * 5000})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


async def test_request_id_echoed_and_generated(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    r = await client.get("/healthz")
    assert len(r.headers["x-request-id"]) == 16


def test_mask_pii_keeps_order_ids() -> None:
    masked = mask_pii("order KF100042, mail jo.doe@example.com, card 4111 1111 1111 1111, tel +1 415-555-0100")
    assert "KF100042" in masked
    assert "example.com" not in masked and "4111" not in masked and "555" not in masked
