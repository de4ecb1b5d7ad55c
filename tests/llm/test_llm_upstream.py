"""Upstream mode: a kefu llm app proxying a real OpenAI-compatible server (another kefu llm
process-in-thread on a free port), streaming included; and the circuit breaker on a dead one."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from kefu.breaker import CircuitBreaker
from kefu.settings import Settings
from services.llm.app import create_app
from services.llm.config import LLMSettings
from tests.conftest import free_port


@pytest.fixture(scope="module")
def upstream_url(tiny_deepseek_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    port = free_port()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("up")), LLMSettings(max_batch=4),
                     model=str(tiny_deepseek_dir))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    url = f"http://127.0.0.1:{port}"
    end = time.time() + 30
    while time.time() < end:
        try:
            if httpx.get(url + "/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    yield url
    server.should_exit = True
    th.join(10)


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
