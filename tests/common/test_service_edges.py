"""Edges every service shares (issue 19): deep JSON, chunked bodies past the limit, unsafe
request ids, CORS refusals and readiness failures all answer in the error model, never a 500 or
plain text, and no exception text reaches a client; `mask_pii` on the forms the issue lists."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from kefu.logging import mask_pii
from kefu.service import Check, JsonCORSMiddleware, create_app

LIMIT = 64 * 1024


class Body(BaseModel):
    text: str
    metadata: dict = {}


def make_app() -> FastAPI:
    async def failing_check() -> Check:
        raise ConnectionError("redis at 10.0.0.7:6379 refused: secret-host")

    app = create_app("edges", title="t", checks={"redis": failing_check}, max_body_bytes=LIMIT)

    @app.post("/echo")
    async def echo(body: Body) -> dict:
        return {"n": len(body.text)}

    app.add_middleware(JsonCORSMiddleware, allow_origins=["https://shop.example"], allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"])
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def _error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body["error"]) >= {"code", "message"}
    return body["error"]


@pytest.mark.parametrize("doc", [
    "[" * 5000 + "]" * 5000,
    '{"text": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"text": "x", "metadata": {"a": ' + "{\"b\": " * 5000 + "1" + "}" * 5000 + "}}",
])
async def test_json_nested_5000_deep_is_400(client: httpx.AsyncClient, doc: str) -> None:
    r = await client.post("/echo", content=doc, headers={"content-type": "application/json"})
    assert _error(r, 400)["code"] == "invalid_json"


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(80):  # 80 KiB with no Content-Length (chunked)
            yield b"x" * 1024
        yield b'"}'

    r = await client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert _error(r, 413)["code"] == "payload_too_large"
    ok = await client.post("/echo", json={"text": "x" * 1000})  # under the limit still answers
    assert ok.status_code == 200 and ok.json() == {"n": 1000}


@pytest.mark.parametrize("rid,kept", [("abc-123_x.y", True), ("<script>alert(1)</script>", False),
                                      ("a" * 65, False), ("two words", False), ("ok\u00e9", False)])
async def test_request_id_kept_only_when_safe(client: httpx.AsyncClient, rid: str, kept: bool) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": rid.encode("utf-8")})
    echoed = r.headers["x-request-id"]
    if kept:
        assert echoed == rid
    else:
        assert echoed != rid and len(echoed) == 16 and echoed.isalnum()


async def test_cors_preflight_refusal_is_json(client: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://shop.example"}
    r = await client.options("/echo", headers={**origin, "Access-Control-Request-Method": "DELETE"})
    err = _error(r, 400)
    assert err["code"] == "cors_rejected" and "method" in err["message"]
    ok = await client.options("/echo", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://shop.example"


async def test_readiness_failure_does_not_leak_exception_text(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    err = _error(r, 503)
    assert err["code"] == "not_ready" and "ConnectionError" in err["message"]
    assert "secret-host" not in r.text and "10.0.0.7" not in r.text


async def test_openapi_documents_error_statuses(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    responses = spec["paths"]["/echo"]["post"]["responses"]
    for status in ("400", "413", "422", "429", "500", "503"):
        assert status in responses, status
        ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorOut")


@pytest.mark.parametrize("text,gone", [
    ("call me on 415.555.0134 please", "415.555.0134"),
    ("(415) 555-0134", "555-0134"),
    ("I live at 221B Baker Street, London", "Baker Street"),
    ("ship it to 123 Main St.", "Main St"),
    ("送到建国路88号", "建国路88号"),
])
def test_mask_pii_masks_phones_and_addresses(text: str, gone: str) -> None:
    masked = mask_pii(text)
    assert gone not in masked and ("[phone]" in masked or "[address]" in masked), masked


@pytest.mark.parametrize("text", ["at 10:11:12 the job ran", "2026-12-03 10:11:12 order KF100042",
                                  "2026-12-03T10:11:12.123 done", "price 19.99 for 3 items", "order 12345"])
def test_mask_pii_keeps_timestamps_prices_and_ids(text: str) -> None:
    assert mask_pii(text) == text
