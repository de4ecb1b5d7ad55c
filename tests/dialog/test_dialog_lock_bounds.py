"""Dialog's lock is bounded: no caller queues longer than MAX_LOCK_WAIT_MS (5 s) or holds a lease
longer than MAX_LOCK_TTL_MS (60 s); larger values are a 422 JSON error, not a request held for
minutes. Against a real uvicorn and real Redis."""

from __future__ import annotations

import time

import httpx

from kefu.contracts import MAX_LOCK_TTL_MS, MAX_LOCK_WAIT_MS
from tests.dialog.conftest import Server


def _invalid(r: httpx.Response, field: str) -> None:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request" and field in err["message"], err


async def test_lock_wait_and_ttl_are_capped(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await client.post("/v1/conversations", json={"conversation_id": "bound-1"})
        url = "/v1/conversations/bound-1/lock"
        _invalid(await client.post(url, json={"wait_ms": 30000}), "wait_ms")
        _invalid(await client.post(url, json={"wait_ms": MAX_LOCK_WAIT_MS + 1}), "wait_ms")
        _invalid(await client.post(url, json={"ttl_ms": MAX_LOCK_TTL_MS + 1}), "ttl_ms")
        _invalid(await client.post(url, json={"wait_ms": -1}), "wait_ms")
        # the fused lock + resolve has the same bounds
        _invalid(await client.post("/v1/conversations/bound-1/resolve",
                                   json={"text": "hi", "lock": {"wait_ms": 30000}}), "wait_ms")
        # nothing was queued by the refused calls: the lock is free at once
        held = await client.post(url, json={"wait_ms": 0, "ttl_ms": MAX_LOCK_TTL_MS})
        assert held.status_code == 200, held.text
        # the longest allowed wait ends with a 409 near 5 s, not later
        t0 = time.monotonic()
        r = await client.post(url, json={"wait_ms": MAX_LOCK_WAIT_MS})
        waited = time.monotonic() - t0
        assert r.status_code == 409 and r.json()["error"]["code"] == "lock_timeout", r.text
        assert MAX_LOCK_WAIT_MS / 1000 - 0.1 <= waited < MAX_LOCK_WAIT_MS / 1000 + 3, waited
        # the default (no body) is the capped wait as well
        t0 = time.monotonic()
        r = await client.post(url)
        assert r.status_code == 409 and time.monotonic() - t0 < MAX_LOCK_WAIT_MS / 1000 + 3
        await client.delete(f"/v1/conversations/bound-1/lock/{held.json()['lease_id']}")
        assert (await client.post(url, json={"wait_ms": 100})).status_code == 200
