"""The dialog HTTP API against a real uvicorn, real Redis and real SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import httpx

from kefu.redis_conn import sync_client
from services.dialog.store import DialogStore
from tests.dialog.conftest import REDIS_URL, Server


async def _turn(client: httpx.AsyncClient, cid: str, i: int, grants: list[tuple[int, int]]) -> None:
    # wait_ms is capped at 5 s: a caller queued behind many turns on a busy box queues again
    r = await client.post(f"/v1/conversations/{cid}/lock", json={"ttl_ms": 10000, "wait_ms": 5000})
    while r.status_code == 409 and r.json()["error"]["code"] == "lock_timeout":
        r = await client.post(f"/v1/conversations/{cid}/lock", json={"ttl_ms": 10000, "wait_ms": 5000})
    assert r.status_code == 200, r.text
    lease = r.json()
    grants.append((lease["fence"], i))
    r = await client.post(f"/v1/conversations/{cid}/resolve", json={"text": f"message {i}"})
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/conversations/{cid}/turns", json={
        "message_id": f"m{i}", "user_text": f"message {i}", "reply_text": f"reply to message {i}",
        "intent": "greeting", "confidence": 0.9, "stage": "fasttext", "fence": lease["fence"]})
    assert r.status_code == 201, r.text
    r = await client.delete(f"/v1/conversations/{cid}/lock/{lease['lease_id']}")
    assert r.status_code == 200 and r.json()["released"] is True


async def test_fifty_concurrent_turns_one_conversation(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        r = await client.post("/v1/conversations", json={"conversation_id": "busy-1", "lang": "en"})
        assert r.status_code == 201
        grants: list[tuple[int, int]] = []
        await asyncio.gather(*[_turn(client, "busy-1", i, grants) for i in range(50)])
        msgs = (await client.get("/v1/conversations/busy-1/messages")).json()["messages"]
    assert len(msgs) == 100
    assert [m["seq"] for m in msgs] == list(range(1, 101))
    users = [m for m in msgs if m["role"] == "user"]
    assert len(users) == 50 and len([m for m in msgs if m["role"] == "bot"]) == 50
    for k in range(0, 100, 2):  # each reply directly after its own message
        assert msgs[k]["role"] == "user" and msgs[k + 1]["role"] == "bot"
        assert msgs[k + 1]["text"] == "reply to " + msgs[k]["text"]
    # the transcript order is the lock's grant order, and fences only grow
    by_fence = [i for _, i in sorted(grants)]
    assert [m["text"] for m in users] == [f"message {i}" for i in by_fence]
    assert sorted({f for f, _ in grants}) == sorted(f for f, _ in grants)
    # and the writer puts every message into SQL
    db = server.env["DATABASE_URL"].removeprefix("sqlite:///")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as con:
            rows = con.execute("SELECT seq, role, text FROM messages WHERE conversation_id='busy-1' ORDER BY seq"
                               ).fetchall()
        if len(rows) == 100:
            break
        await asyncio.sleep(0.2)
    assert [r[0] for r in rows] == list(range(1, 101))
    assert [r[2] for r in rows] == [m["text"] for m in msgs]


async def test_lock_is_fifo_without_polling_delay(server: Server) -> None:
    """Waiters are woken by the release itself: ten queued handovers take far less than Rasa's
    one-second poll per waiter."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await client.post("/v1/conversations", json={"conversation_id": "fifo-1"})
        first = (await client.post("/v1/conversations/fifo-1/lock", json={})).json()
        order: list[int] = []

        async def waiter(i: int) -> None:
            r = await client.post("/v1/conversations/fifo-1/lock", json={"wait_ms": 5000})
            order.append(i)
            await client.delete(f"/v1/conversations/fifo-1/lock/{r.json()['lease_id']}")

        tasks = []
        keys = DialogStore(REDIS_URL, server.env["KEFU_REDIS_PREFIX"], ttl_s=60, db=None)
        queue = sync_client(REDIS_URL, decode_responses=True)
        try:
            for i in range(10):
                tasks.append(asyncio.create_task(waiter(i)))
                # arrival order 0..9: the next waiter asks only once this one is queued (a fixed
                # sleep is not enough when a loaded box delays one request past the next)
                deadline = time.monotonic() + 10
                while queue.llen(keys.k("fifo-1", ":q")) < i + 1 and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
        finally:
            queue.close()
            await keys.close()
        t0 = time.monotonic()
        await client.delete(f"/v1/conversations/fifo-1/lock/{first['lease_id']}")
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - t0
    assert order == list(range(10))
    assert elapsed < 5.0  # generous for a loaded 2-core box; polling would need >= 10 s


async def test_crashed_holder_expires_and_stale_fence_is_rejected(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await client.post("/v1/conversations", json={"conversation_id": "crash-1"})
        dead = (await client.post("/v1/conversations/crash-1/lock", json={"ttl_ms": 400})).json()
        t0 = time.monotonic()
        r = await client.post("/v1/conversations/crash-1/lock", json={"ttl_ms": 5000, "wait_ms": 5000})
        waited = time.monotonic() - t0
        assert r.status_code == 200
        live = r.json()
        assert live["fence"] > dead["fence"]
        assert waited < 3.0
        stale = await client.post("/v1/conversations/crash-1/turns", json={
            "message_id": "late", "user_text": "hi", "reply_text": "hello", "fence": dead["fence"]})
        assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_fence"
        ok = await client.post("/v1/conversations/crash-1/turns", json={
            "message_id": "now", "user_text": "hi", "reply_text": "hello", "fence": live["fence"]})
        assert ok.status_code == 201
        # a waiter that cannot get the lock in time gets a JSON 409, and leaves the queue
        r = await client.post("/v1/conversations/crash-1/lock", json={"wait_ms": 300})
        assert r.status_code == 409 and r.json()["error"]["code"] == "lock_timeout"
        await client.delete(f"/v1/conversations/crash-1/lock/{live['lease_id']}")
        r = await client.post("/v1/conversations/crash-1/lock", json={"wait_ms": 1000})
        assert r.status_code == 200


async def test_bad_input_is_json_4xx(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        r = await client.get("/v1/conversations/nope-404")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        for bad in ("bad.id", "x" * 65, "a%20b", "%E4%BD%A0"):
            r = await client.get(f"/v1/conversations/{bad}")
            assert r.status_code == 422, bad
            assert "error" in r.json()
        r = await client.post("/v1/conversations", json={"conversation_id": "has space"})
        assert r.status_code == 422
        r = await client.post("/v1/conversations/nope-404/turns", json={"message_id": "m", "reply_text": "x"})
        assert r.status_code == 404
        r = await client.post("/v1/conversations/nope-404/resolve", json={"text": "hi"})
        assert r.status_code == 404
        r = await client.get("/v1/conversations/nope-404/messages")
        assert r.status_code == 404
        await client.post("/v1/conversations", json={"conversation_id": "ok-1"})
        r = await client.post("/v1/conversations/ok-1/turns", json={"user_text": "no message id"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
        r = await client.put("/v1/conversations/ok-1/status", json={"status": "robot"})
        assert r.status_code == 422
        r = await client.post("/v1/conversations/ok-1/lock", json={"ttl_ms": -5})
        assert r.status_code == 422
        r = await client.post("/v1/conversations/ok-1/resolve", content=b"{not json",
                              headers={"content-type": "application/json"})
        assert r.status_code == 422


async def test_status_listing_and_readiness(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        for cid in ("list-a", "list-b", "list-c"):
            await client.post("/v1/conversations", json={"conversation_id": cid})
            await client.post(f"/v1/conversations/{cid}/turns", json={
                "message_id": f"{cid}-1", "user_text": "hello", "reply_text": f"hi from {cid}"})
        r = await client.put("/v1/conversations/list-b/status", json={"status": "pending_human"})
        assert r.status_code == 200 and r.json()["status"] == "pending_human"
        listed = (await client.get("/v1/conversations", params={"limit": 10})).json()["conversations"]
        assert [c["conversation_id"] for c in listed] == ["list-b", "list-c", "list-a"]
        assert listed[1]["last_message"] == {"role": "bot", "text": "hi from list-c"}
        pend = (await client.get("/v1/conversations", params={"status": "pending_human"})).json()["conversations"]
        assert [c["conversation_id"] for c in pend] == ["list-b"]
        # agent message: one row, role agent, no user text
        r = await client.post("/v1/conversations/list-b/turns", json={
            "message_id": "ag-1", "user_text": None, "reply_text": "Hi, this is Mei from support.", "role": "agent"})
        assert r.status_code == 201
        msgs = (await client.get("/v1/conversations/list-b/messages")).json()["messages"]
        assert [m["role"] for m in msgs] == ["user", "bot", "agent"]
        state = (await client.get("/v1/conversations/list-b")).json()
        assert state["turns"][-1]["role"] == "agent" and state["turns"][-1]["user"] == ""
        # a retried record (same message id) is not a second turn
        r = await client.post("/v1/conversations/list-b/turns", json={
            "message_id": "ag-1", "user_text": None, "reply_text": "Hi, this is Mei from support.", "role": "agent"})
        assert r.status_code == 200 and r.json()["duplicate"] is True
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "ready"
        assert "stream_backlog" in ready["checks"]["redis"] and "writer_lag_s" in ready["checks"]["redis"]
        mem = (await client.get("/v1/conversations/list-a/memory")).json()
        assert 0 < mem["bytes"] < 4096
        spec = (await client.get("/openapi.json")).json()
        assert "/v1/conversations/{cid}/turns" in spec["paths"]


async def test_window_is_capped_at_five_turns(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        await client.post("/v1/conversations", json={"conversation_id": "cap-1"})
        for i in range(8):
            await client.post("/v1/conversations/cap-1/turns", json={
                "message_id": f"c{i}", "user_text": f"u{i}", "reply_text": f"b{i}"})
        st = (await client.get("/v1/conversations/cap-1")).json()
        assert [t["user"] for t in st["turns"]] == ["u3", "u4", "u5", "u6", "u7"]
        assert st["seq"] == 16
        assert len((await client.get("/v1/conversations/cap-1/messages")).json()["messages"]) == 16
