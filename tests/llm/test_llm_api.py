"""The OpenAI-compatible HTTP surface over a real tiny checkpoint (TestClient runs the lifespan)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kefu.settings import Settings
from services.llm.app import create_app
from services.llm.config import LLMSettings


def _wait_ready(client: TestClient, timeout: float = 30) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        r = client.get("/readyz")
        if r.status_code == 200:
            return r.json()
        time.sleep(0.05)
    raise AssertionError(f"never ready: {r.json()}")


@pytest.fixture(scope="module")
def client(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    app = create_app(settings, LLMSettings(max_batch=4, max_queue=8, max_len=128), model=str(tiny_llama_dir))
    with TestClient(app) as c:
        _wait_ready(c)
        yield c


def _sse(resp) -> list:
    lines = [ln for ln in resp.text.split("\n") if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(ln[6:]) for ln in lines[:-1]]


def test_models_lists_the_served_model(client: TestClient, tiny_llama_dir: Path) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert body["data"][0]["id"] == tiny_llama_dir.resolve().name
    assert body["data"][0]["max_model_len"] == 128


def test_chat_completion_greedy_is_deterministic(client: TestClient) -> None:
    req = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}],
           "max_tokens": 8, "temperature": 0}
    a, b = client.post("/v1/chat/completions", json=req), client.post("/v1/chat/completions", json=req)
    assert a.status_code == 200, a.text
    ja = a.json()
    assert ja["object"] == "chat.completion"
    assert ja["choices"][0]["message"]["role"] == "assistant"
    assert ja["choices"][0]["finish_reason"] in {"stop", "length"}
    assert ja["usage"]["completion_tokens"] <= 8 and ja["usage"]["prompt_tokens"] > 3
    assert ja["choices"][0]["message"]["content"] == b.json()["choices"][0]["message"]["content"]


def test_chat_stream_matches_non_stream(client: TestClient) -> None:
    req = {"messages": [{"role": "user", "content": "Where is my order?"}], "max_tokens": 10, "temperature": 0}
    full = client.post("/v1/chat/completions", json=req).json()["choices"][0]["message"]["content"]
    with client.stream("POST", "/v1/chat/completions", json={**req, "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        r.read()
        chunks = _sse(r)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] in {"stop", "length"}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == full


def test_completions_plain_and_stream(client: TestClient) -> None:
    req = {"prompt": "Your order", "max_tokens": 6, "temperature": 0}
    r = client.post("/v1/completions", json=req)
    assert r.status_code == 200, r.text
    text = r.json()["choices"][0]["text"]
    assert r.json()["object"] == "text_completion"
    with client.stream("POST", "/v1/completions", json={**req, "stream": True}) as s:
        s.read()
        chunks = _sse(s)
    assert "".join(c["choices"][0]["text"] for c in chunks) == text


def test_n_choices_plain_and_streamed(client: TestClient) -> None:
    """n > 1: each choice is its own sequence in the batch; greedy choices agree, sampled ones with a
    seed are reproducible, and a stream carries every choice's text under its index."""
    base = {"messages": [{"role": "user", "content": "Where is my order?"}], "max_tokens": 8}
    one = client.post("/v1/chat/completions", json={**base, "temperature": 0}).json()
    r = client.post("/v1/chat/completions", json={**base, "temperature": 0, "n": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert {c["message"]["content"] for c in body["choices"]} == {one["choices"][0]["message"]["content"]}
    assert body["usage"]["completion_tokens"] == 3 * one["usage"]["completion_tokens"]
    assert body["usage"]["prompt_tokens"] == one["usage"]["prompt_tokens"]
    sampled = {**base, "temperature": 1.0, "seed": 7, "n": 4}
    first = client.post("/v1/chat/completions", json=sampled).json()
    a = [c["message"]["content"] for c in first["choices"]]
    b = [c["message"]["content"] for c in client.post("/v1/chat/completions", json=sampled).json()["choices"]]
    assert a == b  # seed + i per choice: reproducible
    with client.stream("POST", "/v1/chat/completions", json={**sampled, "stream": True}) as s:
        s.read()
        chunks = _sse(s)
    texts = ["", "", "", ""]
    finishes = 0
    for c in chunks:
        ch = c["choices"][0]
        texts[ch["index"]] += ch["delta"].get("content", "")
        finishes += ch["finish_reason"] is not None
    assert texts == a and finishes == 4
    assert chunks[-1]["usage"] == first["usage"]  # the whole request's tokens, on the last final chunk
    assert all("usage" not in c for c in chunks[:-1])
    comp = client.post("/v1/completions", json={"prompt": "Your order", "max_tokens": 5, "temperature": 0, "n": 2})
    assert [c["index"] for c in comp.json()["choices"]] == [0, 1]
    assert comp.json()["choices"][0]["text"] == comp.json()["choices"][1]["text"]


@pytest.mark.parametrize("body,status", [
    ({"messages": [{"role": "user", "content": "hi"}], "model": "gpt-17"}, 404),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, 422),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 10**9}, 422),
    ({"messages": [{"role": "wizard", "content": "hi"}]}, 422),
    ({"messages": []}, 422),
    ({"messages": [{"role": "system", "content": "only a system prompt"}]}, 400),
    ({"messages": [{"role": "user", "content": "hi"}], "temperature": -1}, 422),
    ({"messages": [{"role": "user", "content": "hi"}], "n": 9}, 422),
    ({"messages": [{"role": "user", "content": "hi"}], "n": 0}, 422),
])
def test_bad_chat_input_is_a_json_4xx(client: TestClient, body: dict, status: int) -> None:
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == status, r.text
    assert set(r.json()["error"]) >= {"code", "message"}


def test_prompt_longer_than_context_window_is_400(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "order " * 400, "max_tokens": 4})
    assert r.status_code == 400
    assert "context window" in r.json()["error"]["message"]
    r = client.post("/v1/completions", json={"prompt": "order " * 20, "max_tokens": 500})
    assert r.status_code in {400, 422}


def test_metrics_expose_engine_figures(client: TestClient) -> None:
    client.post("/v1/completions", json={"prompt": "Hello", "max_tokens": 3, "temperature": 0})
    text = client.get("/metrics").text
    for name in ("kefu_llm_queue_depth", "kefu_llm_generated_tokens_total", "kefu_llm_ttft_seconds",
                 "kefu_llm_batch_size", "kefu_llm_tokens_per_second"):
        assert name in text
    stats = client.get("/v1/engine/stats").json()
    assert stats["generated_tokens"] > 0 and stats["context_window"] == 128


def test_missing_responder_keeps_service_up_and_says_why(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), LLMSettings(), model="kefu-responder")
    with TestClient(app) as c:
        time.sleep(0.2)
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503
        assert "kefu-responder" in r.json()["error"]["message"] and "not found" in r.json()["error"]["message"]
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 503 and "Retry-After" in r.headers
