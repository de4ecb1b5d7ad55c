"""Start intent, dialog, retrieval and the gateway as separate processes on free 127.0.0.1 ports
(template path: KEFU_LLM_URL=off; KEFU_RATE_LIMITS=off for one client address), plus a trivial
FastAPI app as the same-run baseline. Shared by run_load.py and profile_turn.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intent", "dialog", "retrieval", "gateway")

BASELINE_APP = '''
from fastapi import FastAPI, Request
app = FastAPI()

@app.post("/v1/echo")
async def echo(request: Request) -> dict:
    body = await request.json()
    return {"reply": {"text": body.get("text", "")}, "ok": True}
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, path: str = "/readyz", timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited")
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready")


@dataclass
class Stack:
    work: Path
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    stand_ins: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.work, ignore_errors=True)


def start(data_dir: Path | None = None, *, baseline: bool = True, extra_env: dict[str, str] | None = None) -> Stack:
    """A private copy of a built data dir (the test cache's, else `kefu build --quick`)."""
    work = Path(tempfile.mkdtemp(prefix="kefu-gwbench-"))
    stack = Stack(work)
    data = work / "data"
    env = {**os.environ, "KEFU_DATA_DIR": str(data), "REDIS_URL": "redis://127.0.0.1:6379/6",
           "KEFU_REDIS_PREFIX": f"gwbench-{os.getpid()}:", "KEFU_LLM_URL": "off", "KEFU_RATE_LIMITS": "off",
           "HF_HUB_OFFLINE": "1", **(extra_env or {})}  # default log level, as `kefu up` runs
    env.pop("DATABASE_URL", None)
    src = data_dir or next(iter(sorted((ROOT / ".kefu-test").glob("built-*"), key=lambda p: p.stat().st_mtime,
                                       reverse=True)), None)
    try:
        if src and (src / ".complete").exists():
            shutil.copytree(src, data, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
        else:
            subprocess.run([sys.executable, "-m", "kefu.cli", "build", "--quick"], env=env, cwd=ROOT, check=True)
        stack.ports = {n: free_port() for n in SERVICES}
        for n in ("intent", "dialog", "retrieval"):
            env[f"KEFU_{n.upper()}_URL"] = stack.url(n)
        for n, p in stack.ports.items():
            cmd = [sys.executable, "-m", "kefu.cli", "serve", n, "--port", str(p)]
            if n != "gateway" and not (ROOT / "services" / n / "app.py").exists():
                stack.stand_ins.append(n)
                cmd = [sys.executable, str(ROOT / "tests/gateway/stub_services.py"), n, str(p)]
            stack.procs[n] = _spawn(cmd, env, work / f"{n}.log")
        if baseline:
            (work / "baseline_app.py").write_text(BASELINE_APP)
            stack.ports["baseline"] = free_port()
            stack.procs["baseline"] = _spawn(
                [sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(stack.ports["baseline"]),
                 "--log-level", "warning", "--no-access-log"], {**env, "PYTHONPATH": str(work)},
                work / "baseline.log", cwd=work)
        for n, proc in stack.procs.items():
            try:
                wait_ready(stack.url(n), proc, "/docs" if n == "baseline" else "/readyz")
            except RuntimeError:
                print((work / f"{n}.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
        warm(stack.url("gateway"))
    except BaseException:
        stack.stop()
        raise
    return stack


WARM_UP = ["hi", "show me running shoes under 100", "how much is the second one?", "is it in stock?",
           "where is my order KF100001?", "how long does shipping take?", "你好", "我想买跑步鞋", "第二个多少钱",
           "我的订单 KF100002 到哪了", "退货政策是什么", "any cheaper?", "gift for my husband"]


def warm(gateway_url: str) -> None:
    """Lazily loaded pieces (Chinese word segmentation, re-rankers, encoders, first SQL reads)
    load here, through the gateway in both languages, not inside the measured phases."""
    with httpx.Client(base_url=gateway_url, timeout=120) as c:
        for _ in range(2):
            body = c.post("/v1/conversations", json={}).json()
            auth = {"Authorization": f"Bearer {body['token']}"}
            for text in WARM_UP:
                c.post(f"/v1/conversations/{body['conversation_id']}/messages", json={"text": text}, headers=auth)


def _spawn(cmd: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    fh = open(log, "ab")
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
