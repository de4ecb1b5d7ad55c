"""Several replicas of every service behind a real load balancer, on one machine (issue 17, item 2).

Two "nodes" (a and b), each with its own data dir (models and indexes are per pod, never a shared
volume), run a gateway, intent, dialog and retrieval as `kefu serve` processes: eight in all.
HAProxy (Debian's package) fronts each pair round-robin with health checks, as a Kubernetes
Service would; the gateways reach the other services only through it. Both nodes share one
Redis (a private key prefix) and one PostgreSQL database.

Proven here: 50 concurrent messages into one conversation, spread over both gateways, are all
answered and recorded in order with nothing lost; a catalog write through one retrieval replica
is searchable on the other within the watch interval; SIGKILLing one replica of each service in
the middle of a 20-shopper load loses no turn (a shopper's widget resends a failed message with
the same `client_message_id`, which the gateways answer once); and the per-address rate limit
keys on the address HAProxy saw, not on an `X-Forwarded-For` the shopper wrote.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from tests.conftest import Proc, free_port, kefu_env, metric_total, spawn, terminate, wait_ready
from tests.pg import fresh_pg_database

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
SERVICES = ("intent", "dialog", "retrieval", "gateway")
NODES = ("a", "b")
PROXY_SOURCE = "127.0.0.2"  # HAProxy connects to the replicas from here: the one trusted proxy
SHOPPER_ADDR = "127.0.0.3"  # a shopper with an address of its own, for the rate-limit check
WATCH_S = 1.0
TEXTS = ("do you have running shoes", "what is your return policy", "how much is the first one",
         "show me something cheaper", "where is my order", "do you ship to Canada?", "我想看看耳机",
         "有没有便宜一点的")

pytestmark = pytest.mark.skipif(not os.path.exists(HAPROXY), reason="haproxy is not installed (make install does)")


def haproxy_config(fronts: dict[str, int], replicas: dict[str, dict[str, int]]) -> str:
    """Round-robin per service, health-checked every 300 ms; a request whose replica refused
    the connection or died before answering is retried on the other one (`retry-on`): a turn is
    safe to resend, as its client_message_id makes the gateways answer it once."""
    out = ["global", "  maxconn 4000", "defaults", "  mode http", "  timeout connect 2s",
           "  timeout client 60s", "  timeout server 60s", "  retries 3", "  option redispatch",
           "  retry-on conn-failure empty-response", ""]
    for svc, port in fronts.items():
        out += [f"frontend fe_{svc}", f"  bind 127.0.0.1:{port}", f"  default_backend be_{svc}"]
        if svc == "gateway":
            out.append("  option forwardfor")
        out += [f"backend be_{svc}", "  balance roundrobin", "  option httpchk GET /healthz",
                f"  source {PROXY_SOURCE}", "  default-server inter 300ms fall 2 rise 1"]
        out += [f"  server {node} 127.0.0.1:{p} check" for node, p in replicas[svc].items()]
        out.append("")
    return "\n".join(out)


@dataclass
class Cluster:
    root: Path
    fronts: dict[str, int]
    procs: dict[tuple[str, str], Proc]
    redis_prefix: str
    database_url: str
    haproxy: subprocess.Popen
    token: str

    def url(self, svc: str) -> str:
        return f"http://127.0.0.1:{self.fronts[svc]}"

    @property
    def internal(self) -> dict[str, str]:
        return {"X-Kefu-Internal-Token": self.token}

    def turns_served(self, node: str) -> float:
        """kefu_gateway_turns_total of one gateway replica, read from it directly."""
        return metric_total(self.procs[("gateway", node)].url, "kefu_gateway_turns_total")


@pytest.fixture(scope="module")
def cluster(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    db = fresh_pg_database("replicas")
    if db is None:
        pytest.fail("PostgreSQL is not answering at 127.0.0.1:5432 (tests need it; `make test` starts it)")
    root = tmp_path_factory.mktemp("replicas")
    fronts = {svc: free_port() for svc in SERVICES}
    ports = {svc: {node: free_port() for node in NODES} for svc in SERVICES}
    token = "rep-internal-" + uuid.uuid4().hex
    prefix = f"rep-{uuid.uuid4().hex[:8]}:"
    env = {"DATABASE_URL": db, "KEFU_REDIS_PREFIX": prefix, "KEFU_INTERNAL_TOKEN": token,
           "KEFU_LLM_URL": "off", "KEFU_RETRIEVAL_WATCH_S": str(WATCH_S), "KEFU_TRUSTED_PROXIES": PROXY_SOURCE,
           "KEFU_RATE_LIMIT_IP_PER_MIN": "100000", "KEFU_RATE_LIMIT_CONV_PER_MIN": "100000",
           "KEFU_RATE_LIMIT_NEW_CONV_PER_MIN": "100000",
           **{f"KEFU_{svc.upper()}_URL": f"http://127.0.0.1:{fronts[svc]}" for svc in SERVICES if svc != "gateway"}}
    datas = {}
    for node in NODES:  # each node its own copy of models and indexes; the catalog is PostgreSQL's
        data = root / f"node-{node}"
        shutil.copytree(built_data_dir, data, ignore=shutil.ignore_patterns("*.log", "logs", "redis*", "kefu.db*"))
        proc = subprocess.run([sys.executable, "-m", "kefu.cli", "build", "--quick"], env=kefu_env(data, **env),
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        datas[node] = data
    cfg = root / "haproxy.cfg"
    cfg.write_text(haproxy_config(fronts, ports))
    check = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    lb = subprocess.Popen([HAPROXY, "-f", str(cfg), "-db"], stdout=open(root / "haproxy.log", "ab"),
                          stderr=subprocess.STDOUT, start_new_session=True)
    procs: dict[tuple[str, str], Proc] = {}
    try:
        for svc in SERVICES:
            for node in NODES:
                cmd = [sys.executable, "-m", "kefu.cli", "serve", svc, "--port", str(ports[svc][node])]
                e = kefu_env(datas[node], **env)
                log = root / f"{svc}-{node}.log"
                procs[(svc, node)] = Proc(f"{svc}-{node}", ports[svc][node], spawn(cmd, e, log), log, cmd, e)
            for node in NODES:
                wait_ready(procs[(svc, node)], "/readyz", 240)
        c = Cluster(root, fronts, procs, prefix, db, lb, token)
        _wait_balanced(c)
        yield c
    finally:
        for p in procs.values():
            p.stop()
        terminate(lb, 5)
        r = redis.Redis()
        for key in r.scan_iter(f"{prefix}*", count=1000):
            r.delete(key)


def _wait_balanced(c: Cluster, timeout_s: float = 30) -> None:
    """HAProxy sees every replica up (its checks run every 300 ms)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if all(httpx.get(c.url(svc) + "/readyz", timeout=2).status_code == 200 for svc in SERVICES):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the load balancer never reached every service")


async def _open(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    r = await client.post("/v1/conversations", json={})
    assert r.status_code == 201, r.text
    return r.json()["conversation_id"], {"Authorization": f"Bearer {r.json()['token']}"}


async def _say(client: httpx.AsyncClient, cid: str, auth: dict[str, str], text: str, mid: str,
               tries: int = 8) -> tuple[dict, int]:
    """One message the way the widget sends it: resent with the same client_message_id until it
    is answered (a replica died under it, the balancer answered 502/503). Returns the answer and
    how many sends it took."""
    last = ""
    for attempt in range(1, tries + 1):
        try:
            r = await client.post(f"/v1/conversations/{cid}/messages",
                                  json={"text": text, "client_message_id": mid}, headers=auth)
            if r.status_code == 200:
                return r.json(), attempt
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        await asyncio.sleep(0.3 * attempt)
    raise AssertionError(f"message {mid} never answered: {last}")


async def _messages(client: httpx.AsyncClient, cid: str, auth: dict[str, str]) -> list[dict]:
    r = await client.get(f"/v1/conversations/{cid}/messages", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def _pairs_in_order(msgs: list[dict]) -> list[str]:
    """The user texts in transcript order, each followed by the bot reply to the same message."""
    texts = []
    assert len(msgs) % 2 == 0, [(m["role"], m.get("text", "")[:20]) for m in msgs]
    for user, bot in zip(msgs[::2], msgs[1::2], strict=True):
        assert (user["role"], bot["role"]) == ("user", "bot"), (user, bot)
        assert user["message_id"] == bot["message_id"], (user, bot)
        texts.append(user["text"])
    return texts


async def test_50_concurrent_messages_into_one_conversation_across_two_gateways(cluster: Cluster) -> None:
    before = {n: cluster.turns_served(n) for n in NODES}
    async with httpx.AsyncClient(base_url=cluster.url("gateway"), timeout=90) as client:
        cid, auth = await _open(client)
        texts = [f"{TEXTS[i % len(TEXTS)]} #{i}" for i in range(50)]
        got = await asyncio.gather(*(_say(client, cid, auth, t, uuid.uuid4().hex) for t in texts))
        assert all(body["reply"]["text"] for body, _ in got)
        in_order = _pairs_in_order(await _messages(client, cid, auth))
    assert sorted(in_order) == sorted(texts), "a message was lost or doubled"
    served = {n: cluster.turns_served(n) - before[n] for n in NODES}
    assert sum(served.values()) == 50 and all(v > 0 for v in served.values()), served
    print(f"\n[replicas] 50 concurrent messages, one conversation: gateway a {served['a']:.0f}, "
          f"b {served['b']:.0f}; transcript in order, none lost")
    assert _wait_sql(cluster, cid, 100), "the transcript writer never put the 100 messages in SQL"
    with psycopg.connect(cluster.database_url) as con:
        rows = con.execute("SELECT role, text FROM messages WHERE conversation_id = %s ORDER BY seq",
                           (cid,)).fetchall()
    assert [t for role, t in rows if role == "user"] == in_order, "SQL's order differs from Redis's"


def _wait_sql(cluster: Cluster, cid: str, n: int, timeout_s: float = 45) -> bool:
    """The transcript writer (one per dialog replica, one consumer group) has put n rows in SQL."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with psycopg.connect(cluster.database_url) as con:
            got = con.execute("SELECT count(*) FROM messages WHERE conversation_id = %s", (cid,)).fetchone()
        if got and got[0] >= n:
            return True
        time.sleep(0.5)
    return False


def test_a_catalog_write_on_one_retrieval_replica_is_found_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.procs[("retrieval", "a")], cluster.procs[("retrieval", "b")]
    pid = "REP-" + uuid.uuid4().hex[:6]
    title = f"Quokka velvet slippers {pid}"
    r = httpx.post(a.url + "/v1/products", headers=cluster.internal, timeout=60,
                   json={"id": pid, "title": title, "category": "Shoes", "price": 42.0, "stock": 3})
    assert r.status_code == 200, r.text
    t0 = time.monotonic()
    seen = None
    while time.monotonic() - t0 < 4 * WATCH_S + 5:
        hits = httpx.post(b.url + "/v1/search", headers=cluster.internal, timeout=30,
                          json={"query": "quokka velvet slippers", "k": 3}).json()["hits"]
        if any(h["id"] == pid for h in hits):
            seen = time.monotonic() - t0
            break
        time.sleep(0.1)
    assert seen is not None, "replica b never indexed replica a's write"
    print(f"\n[replicas] catalog write on a searchable on b after {seen:.2f} s (watch interval {WATCH_S} s)")


@dataclass
class Load:
    sent: dict[str, list[str]] = field(default_factory=dict)  # cid -> texts, in answer order
    auth: dict[str, dict[str, str]] = field(default_factory=dict)
    resends: int = 0
    degraded: int = 0


async def _shopper(client: httpx.AsyncClient, load: Load, i: int, stop: asyncio.Event) -> None:
    cid, auth = await _open(client)
    load.sent[cid], load.auth[cid] = [], auth
    n = 0
    while not stop.is_set():
        text = f"{TEXTS[(i + n) % len(TEXTS)]} ({i}.{n})"
        n += 1
        body, tries = await _say(client, cid, auth, text, uuid.uuid4().hex)
        load.sent[cid].append(text)
        load.resends += tries - 1
        load.degraded += bool(body.get("degraded"))
        await asyncio.sleep(0.05)


def _kill(p: Proc) -> None:
    os.killpg(p.popen.pid, signal.SIGKILL)
    p.popen.wait(10)


async def test_killing_one_replica_of_each_service_mid_load_loses_no_turn(cluster: Cluster) -> None:
    load = Load()
    stop = asyncio.Event()
    victims = [cluster.procs[(svc, "b")] for svc in SERVICES]
    async with httpx.AsyncClient(base_url=cluster.url("gateway"), timeout=90) as client:
        tasks = [asyncio.create_task(_shopper(client, load, i, stop)) for i in range(20)]
        try:
            await asyncio.sleep(4)
            for p in victims:
                await asyncio.to_thread(_kill, p)
            await asyncio.sleep(8)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        answered = sum(len(v) for v in load.sent.values())
        assert answered > 40, load
        for cid, texts in load.sent.items():
            shown = _pairs_in_order(await _messages(client, cid, load.auth[cid]))
            assert shown == texts, f"{cid}: transcript differs from what was answered"
    print(f"\n[replicas] {answered} turns answered across the kill of one replica of each service; "
          f"{load.resends} resends, {load.degraded} degraded, 0 lost")
    for p in victims:  # back for any later test
        p.popen = spawn(p.cmd, p.env, p.log)
    for p in victims:
        wait_ready(p, "/readyz", 240)


def test_rate_limits_key_on_the_address_the_balancer_saw(cluster: Cluster) -> None:
    """The shopper writes X-Forwarded-For itself; HAProxy (the trusted proxy) appends the address
    it saw, and the gateways count that one — across both replicas, in Redis."""
    spoofed = "203.0.113.77"
    transport = httpx.HTTPTransport(local_address=SHOPPER_ADDR)
    with httpx.Client(base_url=cluster.url("gateway"), transport=transport, timeout=30) as c:
        for _ in range(4):  # both gateways, round-robin
            r = c.post("/v1/conversations", json={}, headers={"X-Forwarded-For": spoofed})
            assert r.status_code == 201, r.text
    keys = [k.decode() for k in redis.Redis().scan_iter(f"{cluster.redis_prefix}gw:rl:*", count=1000)]
    assert any(f":{SHOPPER_ADDR}:" in k for k in keys), [k for k in keys if ":conv:" not in k]
    assert not any(spoofed in k for k in keys), keys
    # Straight to a gateway (not through the proxy), the header is not believed either.
    direct = cluster.procs[("gateway", "a")].url
    with httpx.Client(base_url=direct, transport=httpx.HTTPTransport(local_address=SHOPPER_ADDR)) as c:
        assert c.post("/v1/conversations", json={}, headers={"X-Forwarded-For": "198.51.100.5"}).status_code == 201
    with httpx.Client(base_url=direct) as c:  # from 127.0.0.1, which uvicorn alone would believe
        assert c.post("/v1/conversations", json={}, headers={"X-Forwarded-For": "198.51.100.6"}).status_code == 201
    keys = [k.decode() for k in redis.Redis().scan_iter(f"{cluster.redis_prefix}gw:rl:*", count=1000)]
    assert not any("198.51.100." in k for k in keys), keys
