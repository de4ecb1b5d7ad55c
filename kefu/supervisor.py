"""`kefu up`: Redis if needed, then the five services as child processes, restarted if they die.

Children are plain `kefu serve <svc>` processes so a service runs the same alone or supervised.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from kefu.cli import PORT_OFFSETS
from kefu.settings import get_settings

START_ORDER = ("intent", "dialog", "retrieval", "llm", "gateway")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except Exception:
        return False


def spawn_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """A private redis-server without persistence, on a free port."""
    exe = shutil.which("redis-server")
    if not exe:
        raise SystemExit("no Redis answers at REDIS_URL and redis-server is not installed (make install)")
    port = free_port()
    log = open(data_dir / "redis.log", "ab")  # noqa: SIM115 - lives as long as the child
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(data_dir)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if redis_answers(url):
            return proc, url
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start; see redis.log in the data dir")


@dataclass
class Child:
    name: str
    port: int
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff_s: float = 0.5
    next_start: float = 0.0
    log_path: Path | None = None
    _log: object = field(default=None, repr=False)

    def start(self) -> None:
        cmd = [sys.executable, "-m", "kefu.cli", "serve", self.name, "--port", str(self.port)]
        stdout = None
        if self.log_path is not None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115
            stdout = self._log
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=stdout, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.started_at = time.monotonic()

    def stop(self, timeout: float = 8.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(2)


def child_env(port: int, redis_url: str, agent_key: str) -> dict[str, str]:
    settings = get_settings()
    env = dict(os.environ)
    env.update({
        "KEFU_DATA_DIR": str(settings.data_dir.resolve()),
        "REDIS_URL": redis_url,
        "KEFU_AGENT_KEY": agent_key,
        "KEFU_INTENT_URL": f"http://127.0.0.1:{port + PORT_OFFSETS['intent']}",
        "KEFU_DIALOG_URL": f"http://127.0.0.1:{port + PORT_OFFSETS['dialog']}",
        "KEFU_RETRIEVAL_URL": f"http://127.0.0.1:{port + PORT_OFFSETS['retrieval']}",
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    })
    if "KEFU_LLM_URL" not in os.environ:
        env["KEFU_LLM_URL"] = f"http://127.0.0.1:{port + PORT_OFFSETS['llm']}/v1"
    return env


def wait_healthy(children: list[Child], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    pending = {c.name: c for c in children}
    while pending and time.monotonic() < deadline:
        for name, c in list(pending.items()):
            try:
                if httpx.get(f"http://127.0.0.1:{c.port}/healthz", timeout=0.5).status_code == 200:
                    print(f"  {name:<10} http://127.0.0.1:{c.port}", flush=True)
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    for name in pending:
        print(f"  {name:<10} not answering yet (see {name}.log in the data dir)", flush=True)


def run_up(port: int = 8000, build: bool = True, quick: bool = False) -> int:
    settings = get_settings()
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)

    if build:
        from kefu.bootstrap import build_all

        build_all(quick=quick)  # migrates the database first
    else:
        from kefu import migrate
        from kefu.db import make_engine

        migrate.upgrade(make_engine(settings.sql_url))  # `kefu db upgrade` before any service starts

    redis_proc = None
    redis_url = settings.redis_url
    if not redis_answers(redis_url):
        print(f"[kefu up] no Redis at {redis_url}; starting a private redis-server", flush=True)
        redis_proc, redis_url = spawn_redis(data_dir)
    agent_key = settings.agent_key or ("dev-" + secrets.token_urlsafe(18))
    env = child_env(port, redis_url, agent_key)

    children = [
        Child(name, port + PORT_OFFSETS[name], env, log_path=logs / f"{name}.log") for name in START_ORDER
    ]
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    print(f"[kefu up] data dir {data_dir.resolve()}, redis {redis_url}", flush=True)
    for c in children:
        c.start()
    wait_healthy(children)
    print(f"[kefu up] demo shop:        http://127.0.0.1:{port}/", flush=True)
    print(f"[kefu up] agent dashboard:  http://127.0.0.1:{port}/agent", flush=True)
    print(f"[kefu up] development agent key: {agent_key}", flush=True)
    print("[kefu up] Ctrl-C stops everything", flush=True)

    try:
        while not stopping:
            now = time.monotonic()
            for c in children:
                if c.proc is None or c.proc.poll() is None or stopping:
                    continue
                if c.next_start == 0.0:
                    # Back off when a child keeps crashing right after start.
                    lived = now - c.started_at
                    c.backoff_s = 0.5 if lived > 30 else min(c.backoff_s * 2, 30.0)
                    c.next_start = now + c.backoff_s
                    print(f"[kefu up] {c.name} exited with {c.proc.returncode}; restarting in "
                          f"{c.backoff_s:.1f}s", flush=True)
                elif now >= c.next_start:
                    c.restarts += 1
                    c.next_start = 0.0
                    c.start()
            time.sleep(0.2)
    finally:
        print("[kefu up] stopping", flush=True)
        for c in reversed(children):
            c.stop()
        if redis_proc is not None:
            redis_proc.terminate()
            try:
                redis_proc.wait(5)
            except subprocess.TimeoutExpired:
                redis_proc.kill()
    return 0
