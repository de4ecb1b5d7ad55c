"""The dialog store on a real 3-master Redis Cluster: every script and MULTI touches one slot,
conversations spread over the masters, the FIFO lock and the transcript writer work per shard.

(The whole dialog suite also runs against a cluster: `make test-cluster`.)
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from kefu.contracts import RecordTurnRequest
from kefu.db import init_db
from kefu.redis_conn import sync_client
from services.dialog.sqlstore import TranscriptDB
from services.dialog.store import DialogStore
from services.dialog.writer import TranscriptWriter
from tests.redis_cluster import available, redis_cluster

pytestmark = pytest.mark.skipif(not available(), reason="redis-server / redis-cli not installed")


@pytest.fixture(scope="module")
def cluster_url() -> Iterator[str]:
    with redis_cluster() as url:
        yield url


def _slot(r: redis.RedisCluster, key: str) -> int:
    return int(r.keyslot(key))


async def test_conversations_spread_over_masters_each_in_one_slot(cluster_url: str, prefix: str,
                                                                   tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    init_db(url)
    db = TranscriptDB(url)
    store = DialogStore(cluster_url, prefix, ttl_s=60, db=db)
    r = sync_client(cluster_url, decode_responses=True)
    writer = TranscriptWriter(store, db, consumer="cl", block_ms=100, linger_ms=0)
    try:
        assert store.shards == 16
        cids = [f"cl-{i}" for i in range(40)]
        for cid in cids:
            await store.create(cid)
            await store.record(cid, RecordTurnRequest(message_id="m1", user_text="running shoes under 100",
                                                      reply_text="Here are three."))
            await store.set_status(cid, "pending_human")
        # each conversation's keys share a slot with its shard's stream and activity index
        for cid in cids:
            slots = {_slot(r, k) for k in (store.k(cid), store.k(cid, ":w"), store.k(cid, ":p"),
                                           store.k(cid, ":lf"), store.stream_of(cid), store.active_of(cid),
                                           store.wake_prefix(cid) + "x")}
            assert len(slots) == 1
        masters = {r.get_node_from_key(store.stream_of(c)).name for c in cids}
        assert len(masters) == 3  # the shards are spread over every master
        listed = await store.list_active(None, 100)
        assert {x["conversation_id"] for x in listed} == set(cids)
        assert [x["updated_at"] for x in listed] == sorted((x["updated_at"] for x in listed), reverse=True)
        assert len(await store.list_active("pending_human", 7)) == 7
        # the writer drains every shard's stream into SQL (MULTI ack per shard)
        await writer.ensure_group()
        writer.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stats = await store.stream_stats()
            if stats["stream_backlog"] == 0:
                break
            await asyncio.sleep(0.1)
        assert stats["stream_backlog"] == 0, stats
        with sqlite3.connect(url.removeprefix("sqlite:///")) as con:
            n = con.execute("SELECT count(*) FROM messages WHERE conversation_id LIKE 'cl-%'").fetchone()[0]
        assert n == 2 * len(cids)
        assert all(r.exists(store.k(c, ":p")) == 0 for c in cids)
    finally:
        await writer.stop()
        await store.close()
        r.close()


async def test_fifo_lock_on_cluster_keeps_arrival_order(cluster_url: str, prefix: str) -> None:
    store = DialogStore(cluster_url, prefix, ttl_s=60, db=None)
    order: list[int] = []

    async def turn(i: int) -> None:
        lease, fence = await store.lock("fifo-1", ttl_ms=5000, wait_ms=20000)
        order.append(i)
        await store.record("fifo-1", RecordTurnRequest(message_id=f"m{i}", user_text=f"q{i}", reply_text=f"a{i}",
                                                       fence=fence))
        await store.unlock("fifo-1", lease)

    try:
        await store.create("fifo-1")
        holder, _ = await store.lock("fifo-1", ttl_ms=10000, wait_ms=1000)
        tasks = []
        for i in range(20):
            tasks.append(asyncio.create_task(turn(i)))
            while await store.r.llen(store.k("fifo-1", ":q")) < i + 1:  # queued before the next one
                await asyncio.sleep(0.002)
        await store.unlock("fifo-1", holder)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert order == list(range(20))
        st = await store.load("fifo-1")
        assert st is not None and st.seq == 40
        assert [t["u"] for t in st.turns] == [f"q{i}" for i in range(15, 20)]
    finally:
        await store.close()
