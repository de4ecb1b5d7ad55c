"""The production path of generation (issue 18, item 4), end to end on one machine: the gateway's
KEFU_LLM_URL points at kefu's llm service in proxy mode (KEFU_LLM_UPSTREAM), which forwards the
OpenAI API to an upstream inference server — here kefu's own engine serving the trained
responder, standing in for vLLM/SGLang with DeepSeek. The reply the shopper reads passed the
same reply check as any generated reply, or is the template with the check's reasons; the
upstream really generated (its own request counter moved)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.reply_check import form
from kefu.contracts import ReplyContext
from tests.conftest import Proc, free_port, kefu_env, metric_total, spawn, wait_ready


def _finished(url: str) -> float:
    return metric_total(url, "kefu_llm_requests_total")


@pytest.fixture(scope="module")
def llm_chain(built_data_dir: Path, backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proc, Proc]]:
    """(upstream: kefu's engine with the responder, proxy: kefu llm with KEFU_LLM_UPSTREAM)."""
    root = tmp_path_factory.mktemp("upstream")
    up_data = root / "upstream-data"  # the inference server's own models, no kefu token: an outside server
    (up_data / "models" / "llm").mkdir(parents=True)
    (up_data / "models" / "llm" / "kefu-responder").symlink_to(built_data_dir / "models" / "llm" / "kefu-responder")
    up_port, proxy_port = free_port(), free_port()
    up_cmd = [sys.executable, "-m", "kefu.cli", "--data-dir", str(up_data), "llm", "serve", "--model",
              "kefu-responder", "--port", str(up_port), "--max-batch", "4"]
    up = Proc("upstream", up_port, spawn(up_cmd, kefu_env(up_data), root / "upstream.log"), root / "upstream.log",
              up_cmd)
    proxy_env = kefu_env(backend.data_dir, KEFU_INTERNAL_TOKEN=backend.internal_token,
                         KEFU_LLM_UPSTREAM=f"http://127.0.0.1:{up_port}", KEFU_LLM_UPSTREAM_DELEXICALISED="true")
    proxy_cmd = [sys.executable, "-m", "kefu.cli", "serve", "llm", "--port", str(proxy_port)]
    proxy = Proc("proxy", proxy_port, spawn(proxy_cmd, proxy_env, root / "proxy.log"), root / "proxy.log",
                 proxy_cmd, proxy_env)
    try:
        wait_ready(up, "/readyz", 180)
        wait_ready(proxy, "/readyz", 60)
        yield up, proxy
    finally:
        proxy.stop()
        up.stop(30)


def test_gateway_through_the_llm_proxy_to_an_upstream_server(llm_chain, gateway_factory) -> None:
    up, proxy = llm_chain
    gw = gateway_factory(KEFU_LLM_URL=proxy.url, KEFU_LLM_MODEL="kefu-responder",
                         KEFU_BUDGET_LLM_FIRST_S="60", KEFU_BUDGET_LLM_TOTAL_S="90")
    before = _finished(up.url)
    with httpx.Client(base_url=gw.url, timeout=120) as c:
        cid, auth = gw.new_conversation(c)
        replies = [gw.say(c, cid, auth, text) for text in ("hi", "what is your return policy?",
                                                            "do you ship to Canada?")]
    assert _finished(up.url) > before, "the upstream generated nothing: the proxy did not forward"
    print("\n[llm upstream] " + " | ".join(f"{b['reply']['source']}: {b['reply']['text'][:70]!r}" for b in replies))
    for body in replies:
        reply = body["reply"]
        assert reply["source"] in ("llm", "template", "cache"), reply
        assert reply["text"].strip()
        ctx = ReplyContext(lang=reply["lang"], intent=(body.get("intent") or {}).get("name") or "", user_text="")
        if reply["source"] == "llm":  # it passed the reply check in the gateway; whole sentences
            assert not form(reply["text"], ctx), reply["text"]
        assert "llm" not in (body.get("degraded") or []), body
