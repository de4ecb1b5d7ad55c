"""Dialog fixtures: real Redis (db 5, a unique prefix per test), real SQL (SQLite tmp file, or the
a throwaway PostgreSQL database per session), and the dialog service run by a real uvicorn process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from kefu.redis_conn import sync_client
from tests.conftest import free_port, terminate
from tests.pg import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
# KEFU_TEST_REDIS_CLUSTER (set by `python -m tests.redis_cluster -- pytest …`) runs the suite
# against a private Redis Cluster instead.
REDIS_URL = (os.environ.get("KEFU_TEST_REDIS_CLUSTER")
             or os.environ.get("KEFU_TEST_DIALOG_REDIS", "redis://127.0.0.1:6379/5"))


@pytest.fixture
def prefix() -> str:
    return f"kt-dlg-{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def rds() -> Iterator[redis.Redis]:
    r = sync_client(REDIS_URL, decode_responses=True)
    r.ping()
    yield r
    r.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dialog.db'}"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The dialog's own PostgreSQL database for this session (skipped if PostgreSQL is absent)."""
    url = fresh_pg_database("dialog")
    if url is None:  # pragma: no cover - depends on the machine
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    return url


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    env: dict[str, str]
    port: int
    log: Path

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        terminate(self.proc, 15)


def start_server(env_extra: dict[str, str], log: Path, port: int | None = None, wait_ready: bool = True) -> Server:
    port = port or free_port()
    env = dict(os.environ)
    env.update({"PYTHONUNBUFFERED": "1", "KEFU_LOG_LEVEL": "WARNING"})
    env.update(env_extra)
    fh = open(log, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "services.dialog.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(f"http://127.0.0.1:{port}", proc, env, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dialog server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            r = httpx.get(srv.url + "/readyz", timeout=1)
            if r.status_code == 200 or (not wait_ready and r.status_code == 503):
                return srv
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    srv.kill()
    raise RuntimeError(f"dialog server not ready:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def server_env(tmp_path: Path, prefix: str, sqlite_url: str) -> dict[str, str]:
    return {"REDIS_URL": REDIS_URL, "KEFU_REDIS_PREFIX": prefix, "DATABASE_URL": sqlite_url,
            "KEFU_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def server(server_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    srv = start_server(server_env, tmp_path / "dialog.log")
    yield srv
    srv.stop()


def cleanup_prefix(r: redis.Redis, prefix: str) -> None:
    keys = list(r.scan_iter(match=prefix + "*", count=1000))
    if keys:
        r.delete(*keys)


@pytest.fixture(autouse=True)
def _clean_prefix(prefix: str) -> Iterator[None]:
    yield
    r = sync_client(REDIS_URL, decode_responses=True)
    try:
        cleanup_prefix(r, prefix)
    finally:
        r.close()
