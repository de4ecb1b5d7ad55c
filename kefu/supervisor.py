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

from kefu import topology
from kefu.redis_conn import sync_client
from kefu.service_auth import ensure_token_file
from kefu.settings import get_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers(url: str) -> bool:
    try:
        return bool(sync_client(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except Exception:
        return False


def spawn_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """A private redis-server without persistence, on a free port."""
    exe = shutil.which("redis-server")
    if not exe:
        raise SystemExit("no Redis answers at REDIS_URL and redis-server is not installed (make install)")
    port = free_port()
    log = open(data_dir / "redis.log", "ab")  # lives as long as the child
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
            self._log = open(self.log_path, "ab")
            stdout = self._log
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=stdout, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.started_at = time.monotonic()

    def tend(self, now: float) -> None:
        """Restart the child if it has exited, after a back-off that doubles while it keeps
        crashing right after start (and resets once it has lived 30 s)."""
        if self.proc is None or self.proc.poll() is None:
            return
        if self.next_start == 0.0:
            lived = now - self.started_at
            self.backoff_s = 0.5 if lived > 30 else min(self.backoff_s * 2, 30.0)
            self.next_start = now + self.backoff_s
            print(f"[kefu up] {self.name} exited with {self.proc.returncode}; restarting in "
                  f"{self.backoff_s:.1f}s", flush=True)
        elif now >= self.next_start:
            self.restarts += 1
            self.next_start = 0.0
            self.start()

    def stop(self, timeout: float = 8.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(2)


def child_env(port: int, redis_url: str, agent_key: str, internal_token: str) -> dict[str, str]:
    """Every child gets the same environment: one data dir, one Redis, and where its peers
    listen when the gateway is at `port` (the LLM's only if the caller did not point elsewhere)."""
    settings = get_settings()
    env = dict(os.environ)
    env.update({
        "KEFU_DATA_DIR": str(settings.data_dir.resolve()),
        "REDIS_URL": redis_url,
        "KEFU_AGENT_KEY": agent_key,
        "KEFU_INTERNAL_TOKEN": internal_token,
        "KEFU_INTENT_URL": topology.local_url("intent", port),
        "KEFU_DIALOG_URL": topology.local_url("dialog", port),
        "KEFU_RETRIEVAL_URL": topology.local_url("retrieval", port),
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    })
    # Grounded templates by default: on the dev set's test split the default responder's replies
    # lost to them (BENCHMARKS.md, "Generators side by side"); `local` = this stack's llm service.
    if os.environ.get("KEFU_LLM_URL", "off").strip().lower() == "local":
        env["KEFU_LLM_URL"] = topology.local_url("llm", port) + "/v1"
    elif "KEFU_LLM_URL" not in os.environ:
        env["KEFU_LLM_URL"] = "off"
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


def stop_redis(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


def ensure_redis(redis_url: str, data_dir: Path) -> tuple[subprocess.Popen | None, str]:
    """The configured Redis if it answers, else a private one (returned so it can be stopped)."""
    if redis_answers(redis_url):
        return None, redis_url
    print(f"[kefu up] no Redis at {redis_url}; starting a private redis-server", flush=True)
    return spawn_redis(data_dir)


def announce(port: int, agent_key: str, generated_key: bool) -> None:
    """The operator's KEFU_AGENT_KEY is never printed (logs get copied around); a key kefu up
    made up for this run is, once, since there is no other way to learn it."""
    print(f"[kefu up] demo shop:        http://127.0.0.1:{port}/", flush=True)
    print(f"[kefu up] agent dashboard:  http://127.0.0.1:{port}/agent", flush=True)
    if generated_key:
        print(f"[kefu up] development agent key (generated for this run; set KEFU_AGENT_KEY or "
              f"`kefu agent create-key` for a lasting one): {agent_key}", flush=True)
    else:
        print("[kefu up] agent key: KEFU_AGENT_KEY as configured (not shown)", flush=True)
    print("[kefu up] Ctrl-C stops everything", flush=True)


class StopFlag:
    """Set by SIGINT/SIGTERM; the supervise loop checks it between rounds."""

    def __init__(self) -> None:
        self.set = False
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.set = True


def supervise(children: list[Child], stop: StopFlag) -> None:
    while not stop.set:
        now = time.monotonic()
        for c in children:
            if stop.set:
                break
            c.tend(now)
        time.sleep(0.2)


def run_up(port: int = topology.BASE_PORT, build: bool = True, quick: bool = False) -> int:
    """Build what is missing, start Redis if none answers, then every service in start order;
    restart the ones that die until a signal stops them all (in reverse order)."""
    settings = get_settings()
    data_dir = settings.data_dir
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if build:
        from kefu.bootstrap import build_all

        build_all(quick=quick)  # migrates the database first
    else:
        from kefu import migrate
        from kefu.db import make_engine

        migrate.upgrade(make_engine(settings.sql_url))  # `kefu db upgrade` before any service starts

    redis_proc, redis_url = ensure_redis(settings.redis_url, data_dir)
    generated_key = not settings.agent_key
    agent_key = settings.agent_key or ("dev-" + secrets.token_urlsafe(18))
    # The services' shared secret: the configured one, else the data dir's (made once, 0600).
    internal_token = settings.internal_token.strip() or ensure_token_file(data_dir)
    env = child_env(port, redis_url, agent_key, internal_token)
    children = [Child(svc.name, svc.port(port), env, log_path=logs / f"{svc.name}.log")
                for svc in topology.SERVICES]
    stop = StopFlag()

    print(f"[kefu up] data dir {data_dir.resolve()}, redis {redis_url}", flush=True)
    for c in children:
        c.start()
    wait_healthy(children)
    announce(port, agent_key, generated_key)
    try:
        supervise(children, stop)
    finally:
        print("[kefu up] stopping", flush=True)
        for c in reversed(children):
            c.stop()
        stop_redis(redis_proc)
    return 0
