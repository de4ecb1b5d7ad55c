"""Nothing lost when Redis or the writer is: flush rebuild, TTL expiry, writer crash/restart,
Redis down, PostgreSQL transcripts."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from kefu.contracts import RecordTurnRequest
from kefu.db import Product, init_db, session_factory
from kefu.redis_conn import is_cluster
from services.dialog.sqlstore import TranscriptDB
from services.dialog.store import GROUP, DialogStore
from services.dialog.writer import TranscriptWriter
from tests.dialog.conftest import REDIS_URL, Server, start_server


def _sql_count(url: str, cid: str) -> int:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as con:
        return con.execute("SELECT count(*) FROM messages WHERE conversation_id=?", (cid,)).fetchone()[0]


async def _wait_sql(url: str, cid: str, n: int, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    got = 0
    while time.monotonic() < deadline:
        got = _sql_count(url, cid)
        if got >= n:
            return got
        await asyncio.sleep(0.2)
    return got


def _seed_products(url: str) -> None:
    init_db(url)
    with session_factory(url).begin() as s:
        for pid, title, zh, price in [("T1", "Swift Trail Runner", "迅捷越野跑鞋", 129.0),
                                      ("T2", "Aero Road Racer", "轻风竞速跑鞋", 95.0),
                                      ("T3", "Cloud Step Jogger", "云步慢跑鞋", 79.0)]:
            s.merge(Product(id=pid, title=title, price=price, category="shoes", attributes={"title_zh": zh}))


async def test_redis_flush_rebuilds_from_sql(server: Server, rds: redis.Redis) -> None:
    url = server.env["DATABASE_URL"]
    _seed_products(url)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        await c.post("/v1/conversations", json={"conversation_id": "flush-1"})
        await c.post("/v1/conversations/flush-1/turns", json={
            "message_id": "a", "user_text": "show me running shoes under 150", "reply_text": "Here are three.",
            "intent": "product_search", "products": ["T1", "T2", "T3"]})
        await c.post("/v1/conversations/flush-1/turns", json={
            "message_id": "b", "user_text": "my email is ana@example.com", "reply_text": "Thanks."})
        await c.put("/v1/conversations/flush-1/status", json={"status": "pending_human"})
        assert await _wait_sql(url, "flush-1", 4) == 4
        await asyncio.sleep(0.5)  # let the status event through as well
        before = (await c.get("/v1/conversations/flush-1")).json()
        if not is_cluster(REDIS_URL):  # a test cluster is private to the run
            assert rds.connection_pool.connection_kwargs.get("db") == 5
        rds.flushdb()  # Redis lost everything (db 5 belongs to the dialog tests)
        after = (await c.get("/v1/conversations/flush-1")).json()
        assert after["restored"] is True
        assert [t["user"] for t in after["turns"]] == [t["user"] for t in before["turns"]]
        assert after["turns"][0]["products"] == ["T1", "T2", "T3"]
        assert after["slots"] == before["slots"] == {"query": "running shoes", "price_max": 150,
                                                     "email": "ana@example.com"}
        assert after["status"] == "pending_human" and after["seq"] == 4
        # the conversation goes on with its context: references still resolve
        res = (await c.post("/v1/conversations/flush-1/resolve", json={"text": "how much is the second one?"})).json()
        assert res["standalone"] == "how much is Aero Road Racer?"
        assert res["slots"]["product_id"] == "T2" and res["slots"]["email"] == "ana@example.com"
        r = await c.post("/v1/conversations/flush-1/turns", json={
            "message_id": "c", "user_text": "how much is the second one?", "reply_text": "95 USD"})
        assert r.json()["seq"] == 6
        assert await _wait_sql(url, "flush-1", 6) == 6
        msgs = (await c.get("/v1/conversations/flush-1/messages")).json()["messages"]
        assert [m["seq"] for m in msgs] == [1, 2, 3, 4, 5, 6]


async def test_ttl_expiry_then_rebuild(tmp_path: Path, prefix: str, rds: redis.Redis) -> None:
    url = f"sqlite:///{tmp_path / 'ttl.db'}"
    init_db(url)
    db = TranscriptDB(url)
    store = DialogStore(REDIS_URL, prefix, ttl_s=1, db=db)
    writer = TranscriptWriter(store, db, consumer="ttl-test", block_ms=100)
    writer.start()
    try:
        await store.create("ttl-1", "zh")
        await store.record("ttl-1", RecordTurnRequest(message_id="x", user_text="我的订单KF100042到哪了？",
                                                      reply_text="已发货"))
        assert 0 < rds.ttl(store.k("ttl-1")) <= 1
        assert await _wait_sql(url, "ttl-1", 2) == 2
        await asyncio.sleep(2.2)
        assert rds.exists(store.k("ttl-1"), store.k("ttl-1", ":w")) == 0  # expired from Redis
        st = await store.load("ttl-1")
        assert st is not None and st.restored and st.lang == "zh"
        assert st.slots == {"order_id": "KF100042"} and st.turns[0]["u"] == "我的订单KF100042到哪了？"
        res, _ = await store.resolve("ttl-1", "它什么时候能到？")
        assert res.standalone == "订单KF100042什么时候能到？"
    finally:
        await writer.stop()
        await store.close()


async def test_writer_crash_between_read_and_commit_loses_nothing(tmp_path: Path, prefix: str,
                                                                 rds: redis.Redis) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    init_db(url)
    db = TranscriptDB(url)
    store = DialogStore(REDIS_URL, prefix, ttl_s=60, db=db)
    try:
        probe = TranscriptWriter(store, db, consumer="probe")
        await probe.ensure_group()
        await store.create("wc-1")
        for i in range(20):
            await store.record("wc-1", RecordTurnRequest(message_id=f"m{i}", user_text=f"q{i}", reply_text=f"a{i}"))
        # a writer reads everything, then dies before committing (never acks)
        got = rds.xreadgroup(GROUP, "dead-writer", {store.stream_of("wc-1"): ">"}, count=100)
        assert len(got[0][1]) == 21  # 1 create + 20 turns
        assert _sql_count(url, "wc-1") == 0
        # read-your-writes meanwhile: the transcript comes from the pending copies
        assert len(await store.transcript("wc-1")) == 40
        fresh = TranscriptWriter(store, db, consumer="fresh", claim_idle_ms=0, block_ms=100)
        claimed = await fresh.claim_stale()
        assert claimed == 21
        assert _sql_count(url, "wc-1") == 40
        assert rds.xlen(store.stream_of("wc-1")) == 0 and rds.exists(store.k("wc-1", ":p")) == 0
        # redelivery of an already committed entry inserts nothing twice
        await store.record("wc-1", RecordTurnRequest(message_id="m20", user_text="q20", reply_text="a20"))
        entries = rds.xreadgroup(GROUP, "fresh", {store.stream_of("wc-1"): ">"}, count=10)[0][1]
        await fresh.handle(entries, store.stream_of("wc-1"))
        # deleted now: acked as already durable
        await fresh.handle([(eid, f) for eid, f in entries], store.stream_of("wc-1"))
        assert _sql_count(url, "wc-1") == 42
    finally:
        await store.close()


async def test_service_killed_mid_stream_restarts_and_writes_everything(server_env: dict[str, str],
                                                                       tmp_path: Path) -> None:
    srv = start_server(server_env, tmp_path / "kill.log")
    url = server_env["DATABASE_URL"]
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=10) as c:
            await c.post("/v1/conversations", json={"conversation_id": "kill-1"})
            for i in range(30):
                r = await c.post("/v1/conversations/kill-1/turns", json={
                    "message_id": f"k{i}", "user_text": f"q{i}", "reply_text": f"a{i}"})
                assert r.status_code == 201
        srv.kill()  # SIGKILL: no graceful shutdown, whatever the writer had in flight is pending
        srv = start_server(server_env, tmp_path / "kill.log", port=srv.port)
        assert await _wait_sql(url, "kill-1", 60) == 60
        async with httpx.AsyncClient(base_url=srv.url, timeout=10) as c:
            msgs = (await c.get("/v1/conversations/kill-1/messages")).json()["messages"]
        assert [m["text"] for m in msgs] == [t for i in range(30) for t in (f"q{i}", f"a{i}")]
    finally:
        srv.stop()


async def test_redis_down_readyz_503(tmp_path: Path, prefix: str) -> None:
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    env = {"REDIS_URL": f"redis://127.0.0.1:{dead_port}/0", "KEFU_REDIS_PREFIX": prefix,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'down.db'}", "KEFU_DATA_DIR": str(tmp_path / "d")}
    srv = start_server(env, tmp_path / "down.log", wait_ready=False)
    try:
        r = httpx.get(srv.url + "/readyz", timeout=10)
        assert r.status_code == 503
        body = r.json()
        assert body["error"]["code"] == "not_ready" and "Redis unreachable" in body["error"]["message"]
        r = httpx.get(srv.url + "/v1/conversations/any-1", timeout=10)
        assert r.status_code == 503 and r.json()["error"]["code"] == "redis_unavailable"
        assert httpx.get(srv.url + "/healthz", timeout=5).status_code == 200
    finally:
        srv.stop()


@pytest.mark.postgres
async def test_transcript_writer_postgres(pg_url: str, prefix: str) -> None:
    init_db(pg_url)
    db = TranscriptDB(pg_url)
    store = DialogStore(REDIS_URL, prefix, ttl_s=60, db=db)
    writer = TranscriptWriter(store, db, consumer="pg-test", block_ms=100)
    writer.start()
    cid = "pg-" + prefix.split("-")[-1].rstrip(":")
    try:
        await store.create(cid)
        for i in range(10):
            await store.record(cid, RecordTurnRequest(
                message_id=f"p{i}", user_text=f"order KF10004{i} please", reply_text=f"ok {i}",
                intent="order_status", confidence=0.8, stage="rerank", latency_ms=12.5,
                evidence={"order": f"KF10004{i}"}, products=["P00001"]))
        deadline = time.monotonic() + 20
        rows: list = []
        while time.monotonic() < deadline:
            _, rows = db.transcript(cid)
            if len(rows) == 20:
                break
            await asyncio.sleep(0.2)
        assert [r["seq"] for r in rows] == list(range(1, 21))
        assert rows[0]["intent"] == "order_status" and rows[0]["stage"] == "rerank"
        assert rows[0]["slots"] == {"order_id": "KF100040"}
        assert rows[1]["latency_ms"] == 12.5 and rows[1]["products"] == ["P00001"]
        assert rows[-1]["slots"] == {"order_id": "KF100049"}
    finally:
        await writer.stop()
        await store.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


async def test_writer_process_killed_is_restarted_and_loses_nothing(server_env: dict[str, str],
                                                                    tmp_path: Path) -> None:
    """The writer runs in its own process (off the state update's GIL); killing it loses nothing,
    the service restarts it, and a service killed outright takes its writer with it."""
    srv = start_server(server_env, tmp_path / "wp.log")
    url = server_env["DATABASE_URL"]
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=10) as c:
            detail = (await c.get("/readyz")).json()["checks"]["writer"]
            assert detail["mode"] == "process" and detail["running"]
            first_pid = detail["pid"]
            await c.post("/v1/conversations", json={"conversation_id": "wp-1"})
            os.kill(first_pid, signal.SIGKILL)
            for i in range(20):  # written while the writer is down: they wait in the stream
                r = await c.post("/v1/conversations/wp-1/turns", json={
                    "message_id": f"w{i}", "user_text": f"q{i}", "reply_text": f"a{i}"})
                assert r.status_code == 201
            assert await _wait_sql(url, "wp-1", 40) == 40
            detail = (await c.get("/readyz")).json()["checks"]["writer"]
            assert detail["pid"] != first_pid and detail["restarts"] >= 1 and detail["running"]
            msgs = (await c.get("/v1/conversations/wp-1/messages")).json()["messages"]
            assert [m["text"] for m in msgs] == [t for i in range(20) for t in (f"q{i}", f"a{i}")]
            child = detail["pid"]
        srv.kill()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not _alive(child), "the writer outlived its service"
    finally:
        srv.stop()


async def test_writer_drains_the_pre_shard_stream_after_an_upgrade(tmp_path: Path, prefix: str,
                                                                   rds: redis.Redis) -> None:
    """A transcript the previous layout left in P:stream (not yet in SQL) is still written."""
    if is_cluster(REDIS_URL):
        pytest.skip("the pre-shard layout never ran on a Cluster")
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    init_db(url)
    db = TranscriptDB(url)
    store = DialogStore(REDIS_URL, prefix, ttl_s=60, db=db)
    writer = TranscriptWriter(store, db, consumer="up", block_ms=100, linger_ms=0)
    try:
        msgs = [{"role": "user", "text": "old q", "message_id": "o1", "slots": {}, "products": [], "evidence": {},
                 "created_at": "2026-12-01T00:00:00Z"},
                {"role": "bot", "text": "old a", "message_id": "o1", "slots": {}, "products": [], "evidence": {},
                 "created_at": "2026-12-01T00:00:00Z"}]
        rds.xadd(store.legacy_stream, {"kind": "conv", "cid": "legacy-1", "seq": "0", "status": "bot", "lang": "en",
                                       "slots": "{}", "data": "[]"})
        rds.xadd(store.legacy_stream, {"kind": "turn", "cid": "legacy-1", "seq": "1", "status": "bot", "lang": "en",
                                       "slots": "{}", "data": orjson.dumps(msgs).decode()})
        writer.start()
        assert await _wait_sql(url, "legacy-1", 2) == 2
    finally:
        await writer.stop()
        await store.close()
