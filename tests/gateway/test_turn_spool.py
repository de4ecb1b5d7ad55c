"""The gateway's SQL spool of turns dialog could not take: durable, idempotent per turn, read
back in order, and kept (not dropped) while dialog stays unreachable. Real SQLite and a real
(closed) dialog port; the fault runs with Redis and dialog down are in tests/e2e/."""

from __future__ import annotations

import uuid
from pathlib import Path

from redis.asyncio import Redis

from gateway.clients import Dependencies
from gateway.config import GatewaySettings
from gateway.conversation.locks import LocalLocks
from gateway.conversation.parking import ParkedTurns
from kefu.contracts import RecordTurnRequest
from tests.conftest import free_port


def _spool(tmp_path: Path) -> tuple[ParkedTurns, Dependencies]:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: dialog is down
    s = GatewaySettings(data_dir=tmp_path, dialog_url=dead,
                        redis_url=f"redis://127.0.0.1:{free_port()}/0")
    deps = Dependencies(s)
    return ParkedTurns(Redis.from_url(s.redis_url, socket_connect_timeout=0.2), "t:", deps, s.sql_url), deps


def _turn(i: int) -> RecordTurnRequest:
    return RecordTurnRequest(message_id=f"m{i}", user_text=f"question {i}", reply_text=f"answer {i}", role="bot")


async def test_spooled_turns_survive_a_new_process_in_order_once(tmp_path: Path) -> None:
    spool, deps = _spool(tmp_path)
    cid = uuid.uuid4().hex
    for i in range(5):
        await spool.park(cid, _turn(i))
    await spool.park(cid, _turn(2))  # a retried park of the same turn adds nothing
    assert spool.has(cid) and spool.count == 5
    again, deps2 = _spool(tmp_path)  # a restarted gateway finds them in SQL
    assert [t["message_id"] for t in await again.pending(cid)] == [f"m{i}" for i in range(5)]
    again.locks = LocalLocks()
    assert await again.replay_once() == 5  # dialog down: nothing handed over, nothing dropped
    assert again.has(cid) and again.status() == {"spooled_turns": 5, "conversations": 1, "state": "degraded"}
    assert len(await again.pending(cid)) == 5
    await deps.aclose()
    await deps2.aclose()
