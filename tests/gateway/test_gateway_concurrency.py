"""50 messages at once into one conversation: 50 user and 50 bot turns, each reply right
after its own message, nothing lost (ordering comes from the dialog service's FIFO lock)."""

from __future__ import annotations

import asyncio

import httpx


async def test_fifty_concurrent_messages_one_conversation(gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=120) as c:
        r = await c.post("/v1/conversations", json={})
        cid, token = r.json()["conversation_id"], r.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        texts = [f"message number {i} about shipping" for i in range(50)]
        replies = await asyncio.gather(*(c.post(f"/v1/conversations/{cid}/messages", json={"text": t},
                                                headers=auth) for t in texts))
        assert all(r.status_code == 200 for r in replies), [r.text for r in replies if r.status_code != 200]
        by_id = {r.json()["message_id"]: r.json()["reply"]["text"] for r in replies}
        tr = (await c.get(f"/v1/conversations/{cid}/messages", headers=auth)).json()["messages"]
    assert len(tr) == 100
    assert [m["role"] for m in tr] == ["user", "bot"] * 50
    assert sorted(m["text"] for m in tr[0::2]) == sorted(texts)
    for user, bot in zip(tr[0::2], tr[1::2], strict=True):
        assert user["message_id"] == bot["message_id"]
        assert by_id[bot["message_id"]] == bot["text"]
