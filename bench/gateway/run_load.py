"""Gateway load benchmark (`make loadtest`): starts intent, dialog, retrieval and the gateway on
free 127.0.0.1 ports (KEFU_LLM_URL=off: template path; KEFU_RATE_LIMITS=off: one client
address) plus a trivial FastAPI app, then per phase (50, then 100 shoppers, 60 s each) runs
Locust headless against the gateway and, as the same-run baseline, the same shoppers against
the trivial app. Prints one JSON object: per phase req/s, failures, whole-turn p50/p95/p99
(JSON answers and SSE streams until `done`), time to first token, CPU milliseconds per turn of
every service process, and ratios to the baseline.

    .venv/bin/python bench/gateway/run_load.py [--users 50 100] [--seconds 60] [--baseline-seconds 30]
        [--env KEFU_QUERY_CACHE_SIZE=0]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack as stack_mod

ROOT = stack_mod.ROOT
SERVICES = ("gateway", "intent", "dialog", "retrieval")


def pct(xs: list[float], q: float) -> float | None:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1) if xs else None


def cpu_s(pid: int) -> float:
    total = 0.0
    try:
        p = psutil.Process(pid)
        for q in (p, *p.children(recursive=True)):
            t = q.cpu_times()
            total += t.user + t.system
    except psutil.NoSuchProcess:
        pass
    return total


def metric(url: str, name: str, label: str = "") -> float:
    """Sum of a Prometheus counter's samples on a service's /metrics (those carrying `label`)."""
    total = 0.0
    for line in httpx.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + "{") and label in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def turns_done(url: str) -> float:
    return metric(url, "kefu_gateway_turns_total")


def query_cache(url: str) -> dict[str, float]:
    """Retrieval's query-embedding cache counters (hits skip the model's forward pass)."""
    return {k: metric(url, "kefu_retrieval_query_embedding_cache_total", f'result="{k}"') for k in ("hit", "miss")}


def locust(host: str, user_class: str, users: int, seconds: int, out: Path, locustfile: Path) -> dict:
    """Run one headless Locust phase; returns CSV totals plus the exact per-turn times."""
    times_file = out.with_suffix(".times.json")
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users),
           "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "--host", host, "--csv", str(out),
           "--only-summary", "--stop-timeout", "15", user_class]
    env = {**os.environ, "KEFU_LOCUST_TIMES_OUT": str(times_file)}
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    loc_cpu = 0.0
    while proc.poll() is None:  # sample Locust's own CPU (it shares the two cores)
        loc_cpu = max(loc_cpu, cpu_s(proc.pid))
        time.sleep(0.5)
    stderr = proc.stderr.read() if proc.stderr else ""
    rows = list(csv.DictReader(open(f"{out}_stats.csv")))
    res: dict = {"wall_s": round(time.monotonic() - t0, 1), "locust_cpu_s": round(loc_cpu, 1)}
    for r in rows:
        if r["Name"] == "Aggregated":
            res["requests"] = int(r["Request Count"])
            res["failures"] = int(r["Failure Count"])
            res["rps"] = round(float(r["Requests/s"]), 1)
    if "requests" not in res:
        res["error"] = stderr[-1500:]
    times = json.loads(times_file.read_text()) if times_file.exists() else []
    all_ms = [t[1] for t in times]
    by_step: dict[str, list[float]] = {}
    for step, ms, _ in times:
        by_step.setdefault(step, []).append(ms)
    ttft = [t[2] for t in times if t[2] is not None]
    res.update({"turns": len(all_ms), "p50_ms": pct(all_ms, 0.5), "p95_ms": pct(all_ms, 0.95),
                "p99_ms": pct(all_ms, 0.99), "max_ms": pct(all_ms, 1.0),
                "by_step_p50_ms": {k: pct(v, 0.5) for k, v in sorted(by_step.items())}})
    if ttft:
        res["ttft_p50_ms"], res["ttft_p99_ms"] = pct(ttft, 0.5), pct(ttft, 0.99)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, nargs="+", default=[50, 100])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--baseline-seconds", type=int, default=30, help="0 skips the baseline phases")
    ap.add_argument("--think", default=os.environ.get("KEFU_LOCUST_THINK_S", "3-9"),
                    help="seconds a shopper reads and types between messages, MIN-MAX")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the services, e.g. KEFU_QUERY_CACHE_SIZE=0 (cache off)")
    ap.add_argument("--locustfile", type=Path, default=None, help="another Locust file (e.g. an older version)")
    ap.add_argument("--data-dir", type=Path, default=None, help="a built data dir (copied); else the test cache's")
    args = ap.parse_args()
    os.environ["KEFU_LOCUST_THINK_S"] = args.think
    extra = dict(kv.split("=", 1) for kv in args.env)
    locustfile = args.locustfile.resolve() if args.locustfile else ROOT / "locustfile.py"
    st = stack_mod.start(args.data_dir, extra_env=extra)
    try:
        gw = st.url("gateway")
        phases = []
        for u in args.users:
            cpu0 = {n: cpu_s(st.pid(n)) for n in SERVICES}
            turns0 = turns_done(gw)
            qc0 = query_cache(st.url("retrieval"))
            load0 = os.getloadavg()[0]
            phase = {"users": u, "seconds": args.seconds, "think_s": args.think,
                     "gateway": locust(gw, "Shopper", u, args.seconds, st.work / f"gw-u{u}", locustfile)}
            turns = turns_done(gw) - turns0
            phase["server_turns"] = int(turns)
            qc = {k: v - qc0[k] for k, v in query_cache(st.url("retrieval")).items()}
            if qc["hit"] + qc["miss"]:
                phase["query_embedding_cache"] = {"hits": int(qc["hit"]), "misses": int(qc["miss"]),
                                                  "hit_rate": round(qc["hit"] / (qc["hit"] + qc["miss"]), 3)}
            if turns:
                cpu = {n: round((cpu_s(st.pid(n)) - cpu0[n]) / turns * 1000, 2) for n in SERVICES}
                cpu["all_services"] = round(sum(cpu.values()), 2)
                phase["cpu_ms_per_turn"] = cpu
            phase["load_avg_1m"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
            if args.baseline_seconds:
                b = locust(st.url("baseline"), "EchoShopper", u, args.baseline_seconds, st.work / f"base-u{u}",
                           locustfile)
                phase["baseline_trivial_fastapi"] = b
                g = phase["gateway"]
                if b.get("p50_ms") and g.get("p50_ms"):
                    phase["ratio_vs_baseline"] = {"p50": round(g["p50_ms"] / b["p50_ms"], 1),
                                                  "p99": round(g["p99_ms"] / b["p99_ms"], 1)}
            phases.append(phase)
        print(json.dumps({"bench": "gateway_load", "machine": f"{os.cpu_count()} CPU, shared",
                          "date": time.strftime("%Y-%m-%d"), "llm": "off (template path)", "host": "127.0.0.1",
                          "env": extra, "stand_ins": st.stand_ins, "phases": phases}, indent=1))
    finally:
        st.stop()


if __name__ == "__main__":
    main()
