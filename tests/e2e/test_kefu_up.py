"""The walking skeleton end to end: `kefu up` on free ports with a temporary data dir, a private
Redis spawned because none answers at REDIS_URL, and a three-turn conversation through the
gateway that must come back with the real order status and real catalog products."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from kefu import topology
from tests.conftest import free_port, start_stack, stop_stack

SERVICES = topology.START_ORDER  # every service `kefu up` starts


@pytest.fixture(scope="module")
def up_stack(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    dst = tmp_path_factory.mktemp("up") / "data"
    shutil.copytree(built_data_dir, dst, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens: kefu up must spawn one
    s = start_stack(dst, wait_ready=SERVICES, REDIS_URL=dead_redis)
    yield s
    stop_stack(s)


def _demo_order(data_dir: Path, status: str) -> dict:
    con = sqlite3.connect(data_dir / "kefu.db")
    con.row_factory = sqlite3.Row
    row = con.execute("SELECT * FROM orders WHERE status = ? ORDER BY id LIMIT 1", (status,)).fetchone()
    con.close()
    assert row is not None, f"no demo order with status {status}"
    return dict(row)


def test_ops_endpoints_on_all_five_ports(up_stack) -> None:
    for name in SERVICES:
        base = up_stack.service_url(name)
        assert httpx.get(base + "/healthz").json()["status"] == "ok"
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 200, (name, ready.text)
        metrics = httpx.get(base + "/metrics")
        assert metrics.status_code == 200 and "kefu_http_requests_total" in metrics.text
        assert httpx.get(base + "/openapi.json").status_code == 200


def test_kefu_up_spawned_private_redis(up_stack) -> None:
    assert "starting a private redis-server" in up_stack.log()


def test_configured_secrets_never_printed(up_stack) -> None:
    """The operator's agent key and the internal token reach no output of kefu up or its children."""
    outputs = [up_stack.log()] + [p.read_text(errors="replace") for p in (up_stack.data_dir / "logs").glob("*.log")]
    assert "KEFU_AGENT_KEY as configured (not shown)" in up_stack.log()
    for text in outputs:
        assert up_stack.agent_key not in text
        assert up_stack.internal_token not in text


def test_three_turn_conversation(up_stack) -> None:
    client = httpx.Client(base_url=up_stack.url, timeout=60)
    created = client.post("/v1/conversations", json={})
    assert created.status_code == 201, created.text
    cid, token = created.json()["conversation_id"], created.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}

    hi = client.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=auth)
    assert hi.status_code == 200, hi.text
    body = hi.json()
    assert body["reply"]["text"].strip()
    assert body["intent"].get("serves", body["intent"]["name"]) == "greeting"
    assert body["intent"]["stage"] in {"fasttext", "rerank"}

    order = _demo_order(up_stack.data_dir, "shipped")
    r = client.post(f"/v1/conversations/{cid}/messages",
                    json={"text": f"where is my order {order['id']}?"}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["intent"].get("serves", body["intent"]["name"]) == "order_status"
    reply = body["reply"]["text"]
    # not verified yet: the bot found the order and asks for its email, stating no fact of it
    assert order["id"] in reply and "email" in reply, reply
    assert "shipped" not in reply.lower() and order["tracking_number"] not in reply, reply
    r = client.post(f"/v1/conversations/{cid}/messages",
                    json={"text": f"my email is {order['email']}"}, headers=auth)
    reply = r.json()["reply"]["text"]
    assert "shipped" in reply.lower() or order["tracking_number"] in reply, reply
    assert order["id"] in reply or order["tracking_number"] in reply, reply

    r = client.post(f"/v1/conversations/{cid}/messages",
                    json={"text": "show me running shoes under 100"}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    products = body["products"]
    assert products, body
    con = sqlite3.connect(up_stack.data_dir / "kefu.db")
    for p in products:
        row = con.execute("SELECT title, price, category FROM products WHERE id = ?", (p["id"],)).fetchone()
        assert row is not None, p
        assert row[0] == p["title"] and abs(row[1] - p["price"]) < 1e-6
        assert row[1] < 100, p
    kinds = [con.execute("SELECT title || ' ' || category FROM products WHERE id = ?", (p["id"],)).fetchone()[0]
             for p in products]
    assert any("running" in k.lower() for k in kinds), kinds
    con.close()

    history = client.get(f"/v1/conversations/{cid}/messages", headers=auth).json()["messages"]
    roles = [m["role"] for m in history]
    assert roles == ["user", "bot"] * 4, roles


def test_sigterm_stops_every_child(built_data_dir: Path, tmp_path: Path) -> None:
    dst = tmp_path / "data"
    shutil.copytree(built_data_dir, dst, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
    s = start_stack(dst, wait_ready=("gateway", "intent"), KEFU_LLM_URL="off")
    stop_stack(s)
    assert s.proc.returncode == 0
    time.sleep(0.5)
    for port in (svc.port(s.port) for svc in topology.SERVICES):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def test_supervisor_restarts_a_child_that_dies(up_stack) -> None:
    """Runs last in this module: SIGKILL the intent service and `kefu up` brings it back."""
    import os
    import signal

    import psutil

    port = str(topology.port("intent", up_stack.port))
    victims = [p for p in psutil.Process(up_stack.proc.pid).children(recursive=True)
               if "serve" in p.cmdline() and "intent" in p.cmdline() and port in p.cmdline()]
    assert len(victims) == 1, [p.cmdline() for p in victims]
    os.kill(victims[0].pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    back = False
    while time.monotonic() < deadline:
        try:
            if httpx.get(up_stack.service_url("intent") + "/readyz", timeout=1).status_code == 200 \
                    and not victims[0].is_running():
                back = True
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    assert back, up_stack.log()
    assert "intent exited with -9; restarting" in up_stack.log()
