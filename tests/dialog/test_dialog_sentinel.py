"""The dialog store behind Sentinel: a primary, one replica and a sentinel as real redis-server
processes; the primary is killed mid-conversation, Sentinel promotes the replica, and the same
`redis+sentinel://` URL keeps serving the conversation with nothing lost."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from kefu.contracts import RecordTurnRequest
from services.dialog.store import DialogStore
from tests.conftest import free_port

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
MASTER = "kefu-test-primary"


@dataclass
class Sentinel:
    url: str
    primary: subprocess.Popen
    primary_port: int
    replica_port: int
    sentinel_port: int


def _server(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(["redis-server", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[Sentinel]:
    pp, rp, sp = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"]
    procs = [_server(["--port", str(pp), "--dir", str(tmp_path), *common])]
    _wait(lambda: redis.Redis(port=pp).ping(), 10, "primary")
    procs.append(_server(["--port", str(rp), "--dir", str(tmp_path), "--replicaof", "127.0.0.1", str(pp), *common]))
    _wait(lambda: redis.Redis(port=rp, decode_responses=True).info("replication")["master_link_status"] == "up",
          20, "replica in sync")
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sp}\nbind 127.0.0.1\nprotected-mode no\ndir {tmp_path}\n"
                    f"sentinel monitor {MASTER} 127.0.0.1 {pp} 1\n"
                    f"sentinel down-after-milliseconds {MASTER} 1000\n"
                    f"sentinel failover-timeout {MASTER} 5000\n")
    procs.append(_server([str(conf), "--sentinel"]))
    _wait(lambda: redis.Redis(port=sp).sentinel_master(MASTER)["num-slaves"] >= 1, 20, "sentinel sees the replica")
    try:
        yield Sentinel(f"redis+sentinel://127.0.0.1:{sp}/{MASTER}/0", procs[0], pp, rp, sp)
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(10)


async def test_primary_dies_sentinel_promotes_replica_conversation_survives(sentinel: Sentinel,
                                                                            prefix: str) -> None:
    store = DialogStore(sentinel.url, prefix, ttl_s=600, db=None)
    try:
        await store.create("sen-1")
        for i in range(3):
            await store.record("sen-1", RecordTurnRequest(message_id=f"m{i}", user_text=f"q{i}", reply_text=f"a{i}"))
        # the replica has every write before the primary goes (replication is asynchronous)
        primary = redis.Redis(port=sentinel.primary_port)
        assert int(primary.execute_command("WAIT", 1, 2000)) == 1
        sentinel.primary.kill()
        sentinel.primary.wait(10)
        sen = redis.Redis(port=sentinel.sentinel_port, decode_responses=True)
        _wait(lambda: int(sen.sentinel_get_master_addr_by_name(MASTER)[1]) == sentinel.replica_port, 30,
              "failover to the replica")
        # the same URL now reaches the promoted replica (a call in flight at the switch may fail once)
        deadline = time.monotonic() + 20
        while True:
            try:
                await store.record("sen-1", RecordTurnRequest(message_id="m3", user_text="q3", reply_text="a3"))
                break
            except (redis.ConnectionError, redis.ReadOnlyError, redis.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        st = await store.load("sen-1")
        assert st is not None
        assert [t["u"] for t in st.turns] == ["q0", "q1", "q2", "q3"]
        assert st.seq == 8
    finally:
        await store.close()
