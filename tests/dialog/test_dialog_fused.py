"""The fused calls the gateway uses per turn: lock + resolve in one request (the state is read
after the grant), and record + release in one request. Same guarantees as the separate calls."""

from __future__ import annotations

import asyncio

import httpx

from tests.dialog.conftest import Server


async def _fused_turn(client: httpx.AsyncClient, cid: str, i: int, fences: list[tuple[int, int]]) -> None:
    body = {"text": f"message {i}", "lock": {"ttl_ms": 10000, "wait_ms": 5000}}
    r = await client.post(f"/v1/conversations/{cid}/resolve", json=body)
    while r.status_code == 409 and r.json()["error"]["code"] == "lock_timeout":  # wait_ms is capped at 5 s
        r = await client.post(f"/v1/conversations/{cid}/resolve", json=body)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lease_id"] and body["fence"] is not None
    # resolved under the lock: the window holds every turn recorded before this grant
    fences.append((body["fence"], len(body["state"]["turns"])))
    r = await client.post(f"/v1/conversations/{cid}/turns", json={
        "message_id": f"m{i}", "user_text": f"message {i}", "reply_text": f"reply to message {i}",
        "fence": body["fence"], "release_lease": body["lease_id"]})
    assert r.status_code == 201, r.text
    assert r.json()["released"] is True


async def test_fused_turns_keep_fifo_order(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        assert (await client.post("/v1/conversations", json={"conversation_id": "fused-1"})).status_code == 201
        fences: list[tuple[int, int]] = []
        await asyncio.gather(*[_fused_turn(client, "fused-1", i, fences) for i in range(30)])
        msgs = (await client.get("/v1/conversations/fused-1/messages")).json()["messages"]
    assert len(msgs) == 60 and [m["seq"] for m in msgs] == list(range(1, 61))
    for k in range(0, 60, 2):
        assert msgs[k + 1]["text"] == "reply to " + msgs[k]["text"]
    # each grant saw the window as the previous holder left it (capped at five turns)
    seen = [n for _, n in sorted(fences)]
    assert seen == [min(i, 5) for i in range(30)]


async def test_fused_resolve_creates_and_releases_on_failure(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        # unknown conversation: 404 without create_lang, and the lock it took is released
        r = await client.post("/v1/conversations/fused-2/resolve", json={"text": "hi", "lock": {"wait_ms": 1000}})
        assert r.status_code == 404
        r = await client.post("/v1/conversations/fused-2/lock", json={"wait_ms": 200})
        assert r.status_code == 200, "the failed fused call left the lock held"
        await client.delete(f"/v1/conversations/fused-2/lock/{r.json()['lease_id']}")
        r = await client.post("/v1/conversations/fused-2/resolve",
                              json={"text": "你好", "lock": {"wait_ms": 1000}, "create_lang": "zh"})
        assert r.status_code == 200 and r.json()["state"]["lang"] == "zh"
        lease = r.json()["lease_id"]
        # a stale fence is still rejected, and the lease is released all the same
        r = await client.post("/v1/conversations/fused-2/turns", json={
            "message_id": "x", "user_text": "你好", "reply_text": "您好", "fence": -1, "release_lease": lease})
        assert r.status_code == 409 and r.json()["error"]["code"] == "stale_fence"
        r = await client.post("/v1/conversations/fused-2/lock", json={"wait_ms": 200})
        assert r.status_code == 200
        # without the new fields the calls behave as before
        r = await client.post("/v1/conversations/fused-2/resolve", json={"text": "hi"})
        assert r.status_code == 200 and r.json()["lease_id"] is None


async def test_fresh_create_never_overwrites(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        r = await client.post("/v1/conversations", json={"conversation_id": "fresh-1", "lang": "zh", "fresh": True})
        assert r.status_code == 201 and r.json()["lang"] == "zh"
        r = await client.post("/v1/conversations/fresh-1/turns", json={
            "message_id": "m1", "user_text": "你好", "reply_text": "您好"})
        assert r.status_code == 201
        # a (wrong) second fresh create of a live id keeps its state
        r = await client.post("/v1/conversations", json={"conversation_id": "fresh-1", "lang": "en", "fresh": True})
        assert r.status_code == 200 and r.json()["lang"] == "zh" and len(r.json()["turns"]) == 1
