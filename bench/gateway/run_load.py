"""Gateway load benchmark: starts intent, dialog, retrieval and the gateway on free ports
(KEFU_LLM_URL=off: template path; KEFU_RATE_LIMITS=off: one client address), runs Locust
headless against 127.0.0.1 for a bounded time per phase and prints one JSON object.

    .venv/bin/python bench/gateway/run_load.py [--users 50 100] [--seconds 60] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready")


def turn_histogram(metrics: str) -> dict[str, float]:
    """p50/p99 of the gateway's own turn latency from its Prometheus histogram (all sources)."""
    buckets: dict[float, float] = {}
    for line in metrics.splitlines():
        if line.startswith("kefu_gateway_turn_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets[bound] = buckets.get(bound, 0.0) + float(line.rsplit(" ", 1)[1])
    if not buckets:
        return {}
    total = buckets[float("inf")]
    out = {}
    for q in (0.5, 0.99):
        for bound in sorted(buckets):
            if buckets[bound] >= q * total:
                out[f"p{int(q * 100)}_le_ms"] = bound * 1000
                break
    out["turns"] = total
    return out


def run_phase(host: str, users: int, seconds: int, out_dir: Path) -> dict:
    prefix = out_dir / f"u{users}"
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), "--headless", "-u", str(users),
           "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "--host", host, "--csv", str(prefix),
           "--only-summary", "--stop-timeout", "10"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))
    res: dict = {"users": users, "seconds": seconds, "by_name": {}}
    for r in rows:
        entry = {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                 "rps": round(float(r["Requests/s"]), 1), "p50_ms": float(r["50%"]), "p95_ms": float(r["95%"]),
                 "p99_ms": float(r["99%"])}
        if r["Name"] == "Aggregated":
            res["total"] = entry
        else:
            res["by_name"][f"{r['Type']} {r['Name']}"] = entry
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, nargs="+", default=[50, 100])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--data-dir", type=Path, default=None, help="a built data dir (copied); else built here")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kefu-load-"))
    data = work / "data"
    env = {**os.environ, "KEFU_DATA_DIR": str(data), "REDIS_URL": "redis://127.0.0.1:6379/6",
           "KEFU_REDIS_PREFIX": f"load-{os.getpid()}:", "KEFU_LLM_URL": "off", "KEFU_RATE_LIMITS": "off",
           "HF_HUB_OFFLINE": "1", "KEFU_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    src = args.data_dir or next(iter(sorted((ROOT / ".kefu-test").glob("built-*"))), None)
    if src and (src / ".complete").exists():
        shutil.copytree(src, data, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
    else:
        subprocess.run([sys.executable, "-m", "kefu.cli", "build", "--quick"], env=env, cwd=ROOT, check=True)
    procs: list[subprocess.Popen] = []
    try:
        ports = {n: free_port() for n in ("intent", "dialog", "retrieval", "gateway")}
        for n in ("intent", "dialog", "retrieval"):
            env[f"KEFU_{n.upper()}_URL"] = f"http://127.0.0.1:{ports[n]}"
        stand_ins = []
        for n, p in ports.items():
            log = open(work / f"{n}.log", "ab")  # noqa: SIM115
            cmd = [sys.executable, "-m", "kefu.cli", "serve", n, "--port", str(p)]
            if n != "gateway" and not (ROOT / "services" / n / "app.py").exists():
                stand_ins.append(n)  # that service is not in the tree yet: contract-shaped stand-in
                cmd = [sys.executable, str(ROOT / "tests/gateway/stub_services.py"), n, str(p)]
            procs.append(subprocess.Popen(cmd,
                                          env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))
        for (n, p), proc in zip(ports.items(), procs, strict=True):
            try:
                wait(f"http://127.0.0.1:{p}", proc)
            except RuntimeError:
                print((work / f"{n}.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
        host = f"http://127.0.0.1:{ports['gateway']}"
        for q in ("running shoes", "jacket"):  # warm lazy models
            httpx.post(f"http://127.0.0.1:{ports['retrieval']}/v1/search", json={"query": q}, timeout=60)
        phases = []
        for u in args.users:
            phase = run_phase(host, u, args.seconds, work)
            phase["gateway_turn_histogram_cumulative"] = turn_histogram(httpx.get(host + "/metrics").text)
            phases.append(phase)
        print(json.dumps({"bench": "gateway_load", "machine": f"{os.cpu_count()} CPU", "date":
                          time.strftime("%Y-%m-%d"), "llm": "off", "stand_ins": stand_ins,
                          "phases": phases}, indent=1))
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
