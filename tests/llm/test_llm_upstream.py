"""Upstream mode: a kefu llm app proxying a real OpenAI-compatible server (another kefu llm
process-in-thread on a free port), streaming included; and the circuit breaker on a dead one."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from kefu.breaker import CircuitBreaker
from kefu.settings import Settings
from services.llm.app import create_app
from services.llm.config import LLMSettings
from tests.conftest import free_port


@contextmanager
def _serve(app: FastAPI, probe: str, wait_s: float) -> Iterator[str]:
    """Run an ASGI app on a free port in a thread until `probe` answers 200; stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    url = f"http://127.0.0.1:{port}"
    end = time.time() + wait_s
    while time.time() < end:
        try:
            if httpx.get(url + probe).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        th.join(10)


@pytest.fixture(scope="module")
def upstream_url(tiny_deepseek_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("up")), LLMSettings(max_batch=4),
                     model=str(tiny_deepseek_dir))
    with _serve(app, "/readyz", 30) as url:
        yield url


def test_proxy_forwards_chat_stream_models_and_errors(upstream_url: str, tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), LLMSettings(upstream=upstream_url), model="anything")
    req = {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 6, "temperature": 0}
    with TestClient(app) as c:
        assert c.get("/readyz").status_code == 200
        direct = httpx.post(upstream_url + "/v1/chat/completions", json=req).json()
        via = c.post("/v1/chat/completions", json=req)
        assert via.status_code == 200
        assert via.json()["choices"][0]["message"] == direct["choices"][0]["message"]
        with c.stream("POST", "/v1/chat/completions", json={**req, "stream": True}) as s:
            s.read()
            lines = [ln for ln in s.text.split("\n") if ln.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        text = "".join(json.loads(ln[6:])["choices"][0]["delta"].get("content", "") for ln in lines[:-1])
        assert text == direct["choices"][0]["message"]["content"]
        assert c.get("/v1/models").json()["data"][0]["id"] == "tiny-deepseek0"
        r = c.post("/v1/chat/completions", json={**req, "model": "nope"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
        # validation happens here too, before anything is sent upstream
        assert c.post("/v1/chat/completions", json={"messages": []}).status_code == 422


def test_dead_upstream_opens_the_circuit(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    app = create_app(Settings(data_dir=tmp_path), LLMSettings(upstream=dead, upstream_retries=1), model="x")
    app.state.runtime.upstream.breaker = CircuitBreaker("llm_upstream", failure_threshold=2, cooldown_s=30)
    req = {"messages": [{"role": "user", "content": "hello"}]}
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "unreachable" in r.json()["error"]["message"]
        assert [c.post("/v1/chat/completions", json=req).status_code for _ in range(2)] == [502, 502]
        r = c.post("/v1/chat/completions", json=req)
        assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["code"] == "upstream_unavailable"


def test_breaker_half_opens_after_cooldown() -> None:
    b = CircuitBreaker("llm_upstream", failure_threshold=1, cooldown_s=0.05)
    b.failure()
    assert b.state == "open" and not b.allow()
    time.sleep(0.06)
    assert b.allow() and not b.allow()  # exactly one trial
    b.success()
    assert b.state == "closed"


# What vLLM returns when it serves kefu-responder: placeholders, split across stream chunks anywhere.
RAW_REPLY = ("Order [order.id] is on its way with [order.carrier], tracking [order.tracking]. "
             "Returns are accepted within [policy.9].")
FACTS_PROMPT = "FACTS:\norder: id KF100001 | carrier SF Express | tracking SF0387234550428\n"


@pytest.fixture(scope="module")
def delex_upstream_url():
    """A minimal OpenAI-compatible server standing in for vLLM (which cannot run here), over real HTTP."""
    app = FastAPI()

    def pieces() -> list[str]:
        return [RAW_REPLY[i:i + 7] for i in range(0, len(RAW_REPLY), 7)]  # cuts through placeholders

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        if not body.get("stream"):
            return {"id": "x", "object": "chat.completion", "model": "kefu-responder",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": RAW_REPLY},
                                 "finish_reason": "stop"}]}

        async def events():
            for i, p in enumerate(pieces()):
                last = i == len(pieces()) - 1
                chunk = {"id": "x", "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": "stop" if last else None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"
        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/v1/completions")
    async def completions(request: Request):
        return {"id": "y", "object": "text_completion", "choices": [{"index": 0, "text": RAW_REPLY,
                                                                     "finish_reason": "stop"}]}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": "kefu-responder", "object": "model"}]}

    with _serve(app, "/v1/models", 20) as url:
        yield url


def test_upstream_delexicalised_replies_are_filled_from_the_facts(delex_upstream_url: str, tmp_path: Path) -> None:
    want = "Order KF100001 is on its way with SF Express, tracking SF0387234550428."  # [policy.9]: not a fact
    msgs = [{"role": "system", "content": FACTS_PROMPT}, {"role": "user", "content": "where is my order?"}]
    app = create_app(Settings(data_dir=tmp_path),
                     LLMSettings(upstream=delex_upstream_url, upstream_delexicalised=True), model="x")
    with TestClient(app) as c:
        r = c.post("/v1/chat/completions", json={"messages": msgs})
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == want
        with c.stream("POST", "/v1/chat/completions", json={"messages": msgs, "stream": True}) as s:
            s.read()
            lines = [ln for ln in s.text.split("\n") if ln.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        streamed = "".join(json.loads(ln[6:])["choices"][0]["delta"].get("content") or "" for ln in lines[:-1])
        assert streamed == want and "[" not in streamed
        r = c.post("/v1/completions", json={"prompt": FACTS_PROMPT + "<|user|>where?"})
        assert r.json()["choices"][0]["text"] == want
    # without the flag the proxy passes the upstream's text through untouched
    plain = create_app(Settings(data_dir=tmp_path), LLMSettings(upstream=delex_upstream_url), model="x")
    with TestClient(plain) as c:
        assert c.post("/v1/chat/completions", json={"messages": msgs}).json()["choices"][0]["message"]["content"] \
            == RAW_REPLY
