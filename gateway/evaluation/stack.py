"""A private kefu stack for an evaluation run: `kefu up --no-build` on free ports over a copy of the
data dir's database (models and indexes are shared read-only), so the run's order actions never
touch the real database, stopped when the run ends."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kefu import topology

READY_TIMEOUT_S = 300
SHARED = ("models", "index")


@dataclass
class Stack:
    url: str
    sql_url: str
    identity_secret: str


def _free_block(n: int = 5) -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n < 65000 and all(_free(base + i) for i in range(n)):
            return base
    raise RuntimeError("no block of free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _copy_data(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for item in src.iterdir():
        if item.name in SHARED:
            (dst / item.name).symlink_to(item.resolve())
        elif item.name.startswith("kefu.db") and item.is_file():
            shutil.copy2(item, dst / item.name)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(port: int, proc: subprocess.Popen, log: Path) -> None:
    """Every service ready, not only the gateway: its /readyz passes while intent is still loading
    its models, and the first turns of a run would be judged on the keyword fallback (seen: 144 of
    242 test turns with `intent` degraded)."""
    pending = list(topology.START_ORDER)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the evaluation stack exited; see {log}")
        pending = [name for name in pending if not _ready(topology.local_url(name, port))]
        if not pending:
            return
        time.sleep(1)
    raise RuntimeError(f"the evaluation stack was not ready in {READY_TIMEOUT_S}s ({', '.join(pending)}); see {log}")


@contextmanager
def private_stack(data_dir: Path, llm_url: str | None = None) -> Iterator[Stack]:
    tmp = Path(tempfile.mkdtemp(prefix="kefu-eval-"))
    data = tmp / "data"
    _copy_data(data_dir.resolve(), data)
    port = _free_block()
    secret = secrets.token_hex(16)
    env = {**os.environ, "KEFU_DATA_DIR": str(data), "KEFU_IDENTITY_SECRET": secret, "KEFU_RATE_LIMITS": "off",
           "KEFU_REDIS_PREFIX": f"kefu-eval-{secrets.token_hex(4)}:", "KEFU_DIALOG_WRITER": "inline"}
    env.pop("DATABASE_URL", None)
    if llm_url:
        env["KEFU_LLM_URL"] = llm_url
    log = tmp / "stack.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "kefu.cli", "up", "--no-build", "--port", str(port)],
                                env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(port, proc, log)
        yield Stack(url, f"sqlite:///{data / 'kefu.db'}", secret)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
