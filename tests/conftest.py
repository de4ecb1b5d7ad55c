"""Fixtures shared by the suites: a data dir built once by `kefu build --quick`, free ports,
and a running `kefu up` stack for end-to-end and browser tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kefu import topology

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".kefu-test"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_block(n: int = topology.PORT_SPAN) -> int:
    """A base port P with P..P+n-1 all free (kefu up uses consecutive ports from its --port)."""
    for _ in range(200):
        base = free_port()
        if base + n > 65000:
            continue
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no block of free ports")


def _build_key() -> str:
    """Rebuild the cached data dir whenever bundled data or build code changes."""
    h = hashlib.sha256()
    for base in ("kefu/data", "services", "gateway/bootstrap.py", "gateway/orders.py", "kefu/db.py",
                 "kefu/bootstrap.py"):
        path = ROOT / base
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                     and p.suffix in {".py", ".csv", ".jsonl", ".md"}
                                                     and "__pycache__" not in p.parts)
        for f in files:
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    until the session ends, which would break every async test collected after it."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))


def metric_total(base_url: str, name: str) -> float:
    """One metric summed over its label sets, as a service's /metrics shows it now."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(base_url + "/metrics", timeout=5).text
    return sum(s.value for fam in text_string_to_metric_families(text) for s in fam.samples if s.name == name)


def kefu_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"KEFU_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def built_data_dir() -> Path:
    """A data dir where `kefu build --quick` has run (demo catalog, orders, models, index).

    Cached under .kefu-test/ by content hash; treat it as read-only and copy it to mutate."""
    target = CACHE / f"built-{_build_key()}"
    if (target / ".complete").exists():
        return target
    tmp = CACHE / f"building-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "kefu.cli", "build", "--quick"],
                          env=kefu_env(tmp), cwd=ROOT, capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"kefu build --quick failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    (tmp / ".complete").write_text(f"{time.time() - t0:.1f}s\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    # Prune stale builds, but never one another pytest run may still be using.
    for old in CACHE.glob("built-*"):
        if old != target and time.time() - old.stat().st_mtime > 6 * 3600:
            shutil.rmtree(old, ignore_errors=True)
    return target


@pytest.fixture
def data_dir_copy(built_data_dir: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the built data dir."""
    dst = tmp_path / "data"
    shutil.copytree(built_data_dir, dst, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
    return dst


@dataclass
class Stack:
    port: int
    data_dir: Path
    proc: subprocess.Popen
    agent_key: str
    log_path: Path
    internal_token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def service_url(self, name: str) -> str:
        return topology.local_url(name, self.port)

    @property
    def internal_headers(self) -> dict[str, str]:
        """What a caller needs on the internal services' routes (kefu.service_auth)."""
        return {"X-Kefu-Internal-Token": self.internal_token}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


def start_stack(data_dir: Path, *, wait_ready: tuple[str, ...] = ("gateway", "intent", "dialog", "retrieval"),
                timeout_s: float = 240.0, **env_extra: str) -> Stack:
    port = free_port_block()
    agent_key = "test-agent-" + uuid.uuid4().hex[:8]
    internal_token = "test-internal-" + uuid.uuid4().hex
    env = kefu_env(data_dir, KEFU_AGENT_KEY=agent_key, KEFU_REDIS_PREFIX=f"kefu-t-{uuid.uuid4().hex[:8]}:",
                   KEFU_INTERNAL_TOKEN=internal_token, **env_extra)
    log_path = data_dir / "up.log"
    log = open(log_path, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "kefu.cli", "up", "--no-build", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(port, data_dir, proc, agent_key, log_path, env["KEFU_INTERNAL_TOKEN"])
    deadline = time.monotonic() + timeout_s
    pending = set(wait_ready)
    while pending and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kefu up exited early:\n{stack.log()}")
        for name in list(pending):
            try:
                if httpx.get(stack.service_url(name) + "/readyz", timeout=1).status_code == 200:
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if pending:
        stop_stack(stack)
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                         for p in sorted((data_dir / "logs").glob("*.log")))
        raise RuntimeError(f"services not ready: {sorted(pending)}\n{stack.log()}\n{logs}")
    return stack


def terminate(proc: subprocess.Popen, wait_s: float) -> None:
    """SIGTERM (a graceful stop), then SIGKILL to its whole process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@dataclass
class Proc:
    """One service started as its own process (its own session, so `terminate` can kill the group)."""

    name: str
    port: int
    popen: subprocess.Popen
    log: Path
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, wait_s: float = 10) -> None:
        terminate(self.popen, wait_s)

    def restart(self, ready_path: str = "/readyz", timeout: float = 120) -> None:
        self.stop()
        self.popen = spawn(self.cmd, self.env, self.log)
        wait_ready(self, ready_path, timeout)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    fh = open(log, "ab")
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(p: Proc, path: str = "/readyz", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.popen.poll() is not None:
            raise RuntimeError(f"{p.name} exited:\n{p.tail()}")
        try:
            if httpx.get(p.url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{p.name} not ready in {timeout}s:\n{p.tail()}")


def stop_stack(stack: Stack) -> None:
    terminate(stack.proc, 30)


@pytest.fixture(scope="session")
def stack(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One running `kefu up` (template replies: KEFU_LLM_URL=off) shared by e2e and browser tests."""
    dst = tmp_path_factory.mktemp("stack") / "data"
    shutil.copytree(built_data_dir, dst, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
    s = start_stack(dst, KEFU_LLM_URL="off", KEFU_RATE_LIMITS="off")
    yield s
    stop_stack(s)



def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests.pg import drop_created

    drop_created()
