"""Agent keys cannot be guessed at full speed: wrong keys from one address lock it out (429 +
Retry-After) after KEFU_AGENT_KEY_MAX_FAILURES, counted in Redis so a second gateway replica
refuses the address too; during the lockout the right key is refused as well (else 429 versus
200 would still tell a guesser which key works); other addresses and the shopper API are not
affected; the lockout ends when its Redis key expires."""

from __future__ import annotations

import time
import uuid

import httpx

from kefu.redis_conn import sync_client
from tests.gateway.conftest import REDIS_DB6

MAX_FAILURES = 10


def _wait_clear_of_minute_boundary() -> None:
    """Failures count in one-minute windows: start the burst well inside one."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


def test_two_hundred_wrong_keys_are_locked_out_across_replicas(gateway_factory) -> None:
    prefix = f"gwt-lock-{uuid.uuid4().hex[:8]}:"
    a = gateway_factory(KEFU_REDIS_PREFIX=prefix, KEFU_AGENT_KEY_MAX_FAILURES=str(MAX_FAILURES))
    b = gateway_factory(KEFU_REDIS_PREFIX=prefix, KEFU_AGENT_KEY_MAX_FAILURES=str(MAX_FAILURES))
    rds = sync_client(REDIS_DB6, decode_responses=True)  # a Cluster under `make test-cluster`
    try:
        with a.client() as ca, b.client() as cb:
            assert ca.get("/v1/agent/conversations", headers=a.agent_headers).status_code == 200
            _wait_clear_of_minute_boundary()
            statuses: list[int] = []
            retry_after: list[int] = []
            for i in range(200):
                r = ca.get("/v1/agent/conversations", headers={"Authorization": f"Bearer kfa_guess{i}"})
                statuses.append(r.status_code)
                assert r.json()["error"]["code"] in ("forbidden", "agent_key_locked"), r.text
                if r.status_code == 429:
                    retry_after.append(int(r.headers["Retry-After"]))
            assert statuses[:MAX_FAILURES] == [403] * MAX_FAILURES, statuses[:20]
            assert statuses[MAX_FAILURES:] == [429] * (200 - MAX_FAILURES), statuses[:20]
            assert all(0 < s <= 300 for s in retry_after), retry_after[:5]

            # the right key from the locked address: refused too, on this replica and the other
            for gw, c in ((a, ca), (b, cb)):
                r = c.get("/v1/agent/conversations", headers=gw.agent_headers)
                assert r.status_code == 429 and r.json()["error"]["code"] == "agent_key_locked", r.text
                assert int(r.headers["Retry-After"]) > 0
                assert c.get("/v1/agent/stream", params={"key": gw.agent_key}).status_code == 429
            # no key at all is no guess: still a plain 401
            assert ca.get("/v1/agent/conversations").status_code == 401
            # shoppers from the same address are not agents: unaffected
            assert ca.post("/v1/conversations", json={}).status_code == 201

        # another address (127.0.0.2 is loopback too) is not locked out
        other = httpx.Client(base_url=a.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        with other:
            assert other.get("/v1/agent/conversations", headers=a.agent_headers).status_code == 200

        # the lockout lives in Redis: when its key expires, the right key works again
        locks = list(rds.scan_iter(match=f"{prefix}gw:agentauth:lock:*"))
        assert locks == [f"{prefix}gw:agentauth:lock:127.0.0.1"], locks
        assert 250 < rds.ttl(locks[0]) <= 300
        rds.pexpire(locks[0], 200)
        time.sleep(0.5)
        with a.client() as ca:
            assert ca.get("/v1/agent/conversations", headers=a.agent_headers).status_code == 200
    finally:
        keys = list(rds.scan_iter(match=prefix + "*"))
        if keys:
            rds.delete(*keys)
        rds.close()
