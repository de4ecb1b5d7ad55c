"""Service-to-service authentication (kefu.service_auth) on real `kefu serve` processes: every
internal route answers 401 JSON without the shared token (and does nothing), the ops routes stay
open, the token comes from KEFU_INTERNAL_TOKEN or the data dir's 0600 file, and an internal
service refuses to listen off loopback without one. That the gateway sends it on every call is
what the whole gateway suite proves: its backend services require a token (tests/gateway/conftest.py)."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import ROOT, Proc, free_port, kefu_env, spawn, wait_ready

HEADER = "X-Kefu-Internal-Token"
REDIS_URL = "redis://127.0.0.1:6379/5"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = kefu_env(data_dir, REDIS_URL=REDIS_URL, KEFU_LOG_LEVEL="WARNING", **extra)
    if "KEFU_INTERNAL_TOKEN" not in extra:
        env.pop("KEFU_INTERNAL_TOKEN", None)
    return env


def _serve(name: str, data_dir: Path, logs: Path, ready: str = "/readyz", *args: str, **extra: str) -> Proc:
    port = free_port()
    cmd = [sys.executable, "-m", "kefu.cli", "serve", name, "--port", str(port), *args]
    env = _env(data_dir, **extra)
    p = Proc(name, port, spawn(cmd, env, logs / f"{name}-{port}.log"), logs / f"{name}-{port}.log", cmd, env)
    try:
        wait_ready(p, ready, 180)
    except Exception:
        p.stop()
        raise
    return p


def _unauthorized(r: httpx.Response) -> None:
    assert r.status_code == 401, (r.status_code, r.text)
    err = r.json()["error"]
    assert err["code"] == "unauthorized" and HEADER in err["message"]


def _raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _not_http_is_json_400(port: int) -> None:
    """Bytes uvicorn's parser rejects before any ASGI code get kefu's error model, not its plain
    "Invalid HTTP request received." (kefu.http_protocol)."""
    for data in (b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
                 b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"):
        head, _, body = _raw_request(port, data).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), head
        assert b"content-type: application/json" in head.lower(), head
        err = json.loads(body)["error"]
        assert err["code"] == "bad_request" and "HTTP" in err["message"], err


def _ops_open(c: httpx.Client) -> None:
    for path in ("/healthz", "/metrics", "/openapi.json"):
        assert c.get(path).status_code == 200, path


def test_internal_token_file_is_private_and_never_printed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runs = [subprocess.run([sys.executable, "-m", "kefu.cli", "internal-token", "--data-dir", str(data)],
                           env=_env(data), cwd=ROOT, capture_output=True, text=True, timeout=60) for _ in range(2)]
    path = data / "internal-token"
    token = path.read_text().strip()
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for out in runs:
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == str(path.resolve())
        assert token not in out.stdout + out.stderr
    assert path.read_text().strip() == token  # made once: a second run keeps it


def test_dialog_requires_the_data_dir_token(tmp_path: Path) -> None:
    """No KEFU_INTERNAL_TOKEN: the service takes the data dir's file, as docker-compose's do."""
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "kefu.cli", "internal-token", "--data-dir", str(data)],
                   env=_env(data), cwd=ROOT, check=True, capture_output=True, timeout=60)
    token = (data / "internal-token").read_text().strip()
    prefix = f"kt-auth-{uuid.uuid4().hex[:8]}:"
    p = _serve("dialog", data, tmp_path, "/readyz", KEFU_REDIS_PREFIX=prefix, KEFU_DIALOG_WRITER="inline",
               DATABASE_URL=f"sqlite:///{tmp_path / 'dialog.db'}")
    try:
        with httpx.Client(base_url=p.url, timeout=30) as c:
            _ops_open(c)
            _not_http_is_json_400(p.port)
            assert c.get("/readyz").status_code == 200
            _unauthorized(c.post("/v1/conversations", json={"conversation_id": "auth-1"}))
            _unauthorized(c.post("/v1/conversations", json={"conversation_id": "auth-1"},
                                 headers={HEADER: token + "x"}))
            _unauthorized(c.post("/v1/conversations/auth-1/lock", json={"wait_ms": 30000}))
            _unauthorized(c.get("/v1/conversations/auth-1"))
            _unauthorized(c.get("/v1/conversations"))
            _unauthorized(c.put("/v1/conversations/auth-1/status", json={"status": "human"}))
            # nothing was created by the refused calls
            assert c.get("/v1/conversations/auth-1", headers={HEADER: token}).status_code == 404
            ok = c.post("/v1/conversations", json={"conversation_id": "auth-1"}, headers={HEADER: token})
            assert ok.status_code == 201, ok.text
            lock = c.post("/v1/conversations/auth-1/lock", json={"wait_ms": 100}, headers={HEADER: token})
            assert lock.status_code == 200, lock.text
            _unauthorized(c.delete(f"/v1/conversations/auth-1/lock/{lock.json()['lease_id']}"))
            # an OpenAI-style bearer works too (SDK clients of the llm send their key that way)
            assert c.get("/v1/conversations/auth-1", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            assert "401" in c.get("/openapi.json").json()["paths"]["/v1/conversations/{cid}/lock"]["post"]["responses"]
    finally:
        p.stop()
        r = redis.Redis.from_url(REDIS_URL)
        keys = list(r.scan_iter(match=prefix + "*"))
        if keys:
            r.delete(*keys)
        r.close()


def test_retrieval_catalog_writes_need_the_token(data_dir_copy: Path, tmp_path: Path) -> None:
    token = "rt-" + uuid.uuid4().hex
    auth = {HEADER: token}
    p = _serve("retrieval", data_dir_copy, tmp_path, "/readyz", KEFU_INTERNAL_TOKEN=token)
    try:
        with httpx.Client(base_url=p.url, timeout=60) as c:
            _ops_open(c)
            existing = c.get("/v1/products", params={"limit": 1}, headers=auth).json()["items"][0]["id"]
            junk = {"id": "JUNK-1", "title": "junk", "price": 1.0, "category": "junk"}
            _unauthorized(c.post("/v1/products", json=[junk]))
            _unauthorized(c.delete(f"/v1/products/{existing}"))
            _unauthorized(c.post("/v1/search", json={"query": "running shoes", "k": 3}))
            _unauthorized(c.get("/v1/products"))
            _unauthorized(c.post("/v1/kb/documents", json={}))
            # the refused writes did nothing
            assert c.get(f"/v1/products/{existing}", headers=auth).status_code == 200
            assert c.get("/v1/products/JUNK-1", headers=auth).status_code == 404
            r = c.post("/v1/search", json={"query": "running shoes", "k": 3}, headers=auth)
            assert r.status_code == 200 and r.json()["hits"], r.text
    finally:
        p.stop()


def test_intent_and_llm_need_the_token(data_dir_copy: Path, tmp_path: Path) -> None:
    token = "il-" + uuid.uuid4().hex
    auth = {HEADER: token}
    intent = _serve("intent", data_dir_copy, tmp_path, "/readyz", KEFU_INTERNAL_TOKEN=token)
    try:
        with httpx.Client(base_url=intent.url, timeout=60) as c:
            _ops_open(c)
            _unauthorized(c.post("/v1/classify", json={"text": "where is my order"}))
            _unauthorized(c.post("/admin/reload", json={}))
            r = c.post("/v1/classify", json={"text": "where is my order"}, headers=auth)
            assert r.status_code == 200 and r.json()["intent"], r.text
    finally:
        intent.stop()
    # the llm as a proxy (no model to load) in front of an upstream that is not there
    dead = f"http://127.0.0.1:{free_port()}/v1"
    llm = _serve("llm", data_dir_copy, tmp_path, "/healthz", KEFU_INTERNAL_TOKEN=token, KEFU_LLM_UPSTREAM=dead)
    try:
        with httpx.Client(base_url=llm.url, timeout=60) as c:
            _ops_open(c)
            chat = {"model": "kefu-responder", "messages": [{"role": "user", "content": "hi"}]}
            _unauthorized(c.post("/v1/chat/completions", json=chat))
            _unauthorized(c.post("/v1/chat/completions", json=chat, headers={"Authorization": "Bearer nope"}))
            _unauthorized(c.get("/v1/models"))
            # past the check the proxy answers for its (dead) upstream: anything but 401
            assert c.get("/v1/models", headers=auth).status_code != 401
            assert c.get("/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code != 401
    finally:
        llm.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_internal_service_refuses_an_open_bind_without_a_token(tmp_path: Path, host: str) -> None:
    env = _env(tmp_path / "data")
    out = subprocess.run([sys.executable, "-m", "kefu.cli", "serve", "dialog", "--host", host,
                          "--port", str(free_port())], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "KEFU_INTERNAL_TOKEN" in out.stderr and "refusing" in out.stderr


def test_no_token_configured_means_loopback_only_and_open(tmp_path: Path) -> None:
    """Plain development: one service alone on 127.0.0.1 without any token answers as before."""
    assert "KEFU_INTERNAL_TOKEN" not in _env(tmp_path)
    prefix = f"kt-auth-{uuid.uuid4().hex[:8]}:"
    p = _serve("dialog", tmp_path / "data", tmp_path, "/readyz", KEFU_REDIS_PREFIX=prefix,
               KEFU_DIALOG_WRITER="inline", DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}")
    try:
        r = httpx.post(p.url + "/v1/conversations", json={"conversation_id": "open-1"}, timeout=30)
        assert r.status_code == 201, r.text
    finally:
        p.stop()
        rc = redis.Redis.from_url(REDIS_URL)
        keys = list(rc.scan_iter(match=prefix + "*"))
        if keys:
            rc.delete(*keys)
        rc.close()


def test_llm_headers_keep_the_internal_token_inside_the_deployment(tmp_path: Path) -> None:
    """The internal token opens kefu's own routes: it goes to a plain-HTTP LLM URL (kefu's llm, or
    vLLM inside the network) and never to an https:// third party, which gets only its API key."""
    from kefu.service_auth import llm_headers
    from kefu.settings import Settings

    def heads(url: str, key: str = "") -> dict[str, str]:
        return llm_headers(Settings(data_dir=tmp_path, llm_url=url, internal_token="s3cret", llm_api_key=key))

    assert heads("http://127.0.0.1:8004") == {HEADER: "s3cret"}
    assert heads("https://api.deepseek.com") == {}
    assert heads("https://api.deepseek.com", key="sk-1") == {"Authorization": "Bearer sk-1"}
    assert heads("http://vllm:8000", key="k") == {HEADER: "s3cret", "Authorization": "Bearer k"}


def test_kefu_up_prints_only_a_key_it_generated(capsys: pytest.CaptureFixture[str]) -> None:
    from kefu.supervisor import announce

    announce(8000, "operator-key-123", generated_key=False)
    out = capsys.readouterr().out
    assert "operator-key-123" not in out and "not shown" in out
    announce(8000, "dev-abc", generated_key=True)
    assert "dev-abc" in capsys.readouterr().out
