"""Where a template-path turn spends its time: one shopper at a time (no queueing), scripted
sessions (greeting, product search, follow-up, order status, policy), and per turn:

- wall time per step (client side),
- CPU milliseconds each service process burns per turn (psutil, user+system),
- calls per turn and server-side milliseconds per route of every service (their
  `kefu_http_request_seconds` histograms), and the gateway's view of each dependency call,
- the same-run baseline: a trivial FastAPI JSON endpoint under the same client loop (CPU per
  request and wall time), so the figures survive a noisy shared machine as ratios.

    .venv/bin/python bench/gateway/profile_turn.py [--sessions 40] [--data-dir DIR]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack as stack_mod

SEARCHES = ["show me running shoes under 100", "a rain jacket for women", "wireless headphones",
            "office chair under 300", "我想买跑步鞋", "cheap frying pan", "desk lamp under 50", "双肩包",
            "a sofa for a small flat", "smartwatch for running", "summer dress under 100"]
FOLLOW_UPS = ["how much is the first one?", "is it in stock?", "第二个多少钱"]
POLICY = ["how long does shipping take?", "what is your return policy?", "can I pay with paypal?"]


def session(i: int) -> list[tuple[str, str]]:
    return [("greeting", "hi" if i % 2 else "你好"), ("search", SEARCHES[i % len(SEARCHES)]),
            ("follow-up", FOLLOW_UPS[i % len(FOLLOW_UPS)]), ("order", f"where is my order KF{100001 + i}?"),
            ("policy", POLICY[i % len(POLICY)])]


def cpu_s(pid: int) -> float:
    p = psutil.Process(pid)
    procs = [p, *p.children(recursive=True)]
    total = 0.0
    for q in procs:
        try:
            t = q.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def histo(url: str, name: str, label: str) -> dict[str, tuple[float, float]]:
    """label value -> (count, sum) of one histogram."""
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    text = httpx.get(url + "/metrics", timeout=10).text
    for fam in text_string_to_metric_families(text):
        if fam.name != name:
            continue
        for s in fam.samples:
            key = s.labels.get(label, "")
            if s.name.endswith("_count"):
                out[key][0] += s.value
            elif s.name.endswith("_sum"):
                out[key][1] += s.value
    return {k: (v[0], v[1]) for k, v in out.items()}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2) if xs else 0.0


SERVICES = ("gateway", "intent", "dialog", "retrieval")
Counts = dict[str, tuple[float, float]]


def warm_up(c: httpx.Client) -> None:
    """Two full sessions, so lazy imports and first-call costs are not counted."""
    for sid in range(2):
        cid_tok = c.post("/v1/conversations", json={}).json()
        auth = {"Authorization": f"Bearer {cid_tok['token']}"}
        for _, text in session(sid + 1000):
            c.post(f"/v1/conversations/{cid_tok['conversation_id']}/messages", json={"text": text},
                   headers=auth)


def cpu_all(st: stack_mod.Stack) -> dict[str, float]:
    return {n: cpu_s(st.pid(n)) for n in SERVICES}


def scrape(st: stack_mod.Stack) -> tuple[dict[str, Counts], Counts]:
    """Route histograms per service, and the gateway's dependency histogram."""
    routes = {n: histo(st.url(n), "kefu_http_request_seconds", "route") for n in SERVICES}
    return routes, histo(st.url("gateway"), "kefu_gateway_dependency_seconds", "dep")


def play_sessions(c: httpx.Client, n: int) -> dict[str, list[float]]:
    """Wall milliseconds per step over n scripted sessions, one turn at a time."""
    walls: dict[str, list[float]] = defaultdict(list)
    for i in range(n):
        r = c.post("/v1/conversations", json={})
        cid, auth = r.json()["conversation_id"], {"Authorization": f"Bearer {r.json()['token']}"}
        for step, text in session(i):
            t0 = time.perf_counter()
            resp = c.post(f"/v1/conversations/{cid}/messages", json={"text": text}, headers=auth)
            walls[step].append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, resp.text
    return walls


def baseline(st: stack_mod.Stack, turns: int) -> tuple[float, list[float]]:
    """The same client loop against a trivial FastAPI JSON endpoint: CPU ms per request, wall ms."""
    with httpx.Client(base_url=st.url("baseline"), timeout=30) as c:
        for _ in range(20):
            c.post("/v1/echo", json={"text": "hi"})
        b_cpu0 = cpu_s(st.pid("baseline"))
        b_walls = []
        for i in range(turns):
            t0 = time.perf_counter()
            c.post("/v1/echo", json={"text": f"message {i}"})
            b_walls.append((time.perf_counter() - t0) * 1000)
        return (cpu_s(st.pid("baseline")) - b_cpu0) / turns * 1000, b_walls


def route_deltas(before: dict[str, Counts], after: dict[str, Counts], turns: int) -> dict[str, dict[str, dict]]:
    routes: dict[str, dict[str, dict[str, float]]] = {}
    for n in SERVICES:
        for route, (cnt, tot) in after[n].items():
            c0, s0 = before[n].get(route, (0.0, 0.0))
            if cnt - c0 <= 0 or route in ("/metrics", "/readyz"):
                continue
            routes.setdefault(n, {})[route] = {"calls_per_turn": round((cnt - c0) / turns, 2),
                                               "server_ms_avg": round((tot - s0) / (cnt - c0) * 1000, 2)}
    return routes


def dep_deltas(before: Counts, after: Counts, turns: int) -> dict[str, dict[str, float]]:
    deps = {}
    for dep, (cnt, tot) in after.items():
        c0, s0 = before.get(dep, (0.0, 0.0))
        if cnt - c0 > 0:
            deps[dep] = {"calls_per_turn": round((cnt - c0) / turns, 2),
                         "ms_avg_seen_by_gateway": round((tot - s0) / (cnt - c0) * 1000, 2)}
    return deps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    st = stack_mod.start(args.data_dir)
    try:
        with httpx.Client(base_url=st.url("gateway"), timeout=30) as c:
            warm_up(c)
            before_routes, before_deps = scrape(st)
            cpu0 = cpu_all(st)  # the CPU window excludes the scrapes
            t_start = time.perf_counter()
            walls = play_sessions(c, args.sessions)
            elapsed = time.perf_counter() - t_start
            cpu1 = cpu_all(st)
            after_routes, after_deps = scrape(st)
        all_walls = [w for ws in walls.values() for w in ws]
        turns = len(all_walls)
        b_cpu, b_walls = baseline(st, turns)

        cpu_per_turn = {n: round((cpu1[n] - cpu0[n]) / turns * 1000, 2) for n in SERVICES}
        total_cpu = sum(cpu_per_turn.values())
        print(json.dumps({
            "bench": "gateway_turn_profile", "machine": f"{os.cpu_count()} CPU", "date": time.strftime("%Y-%m-%d"),
            "load_avg_1m": round(os.getloadavg()[0], 2), "llm": "off", "stand_ins": st.stand_ins,
            "turns": turns, "turns_per_s_sequential": round(turns / elapsed, 1),
            "wall_ms": {"p50": pct(all_walls, 0.5), "p99": pct(all_walls, 0.99),
                        "by_step_p50": {k: pct(v, 0.5) for k, v in walls.items()}},
            "cpu_ms_per_turn": {**cpu_per_turn, "all_services": round(total_cpu, 2)},
            "routes": route_deltas(before_routes, after_routes, turns),
            "dependencies": dep_deltas(before_deps, after_deps, turns),
            "baseline": {"what": "trivial FastAPI JSON endpoint, same client loop",
                         "cpu_ms_per_request": round(b_cpu, 2), "wall_ms_p50": pct(b_walls, 0.5),
                         "wall_ms_p99": pct(b_walls, 0.99)},
            "ratios": {"turn_cpu_vs_baseline_request": round(total_cpu / b_cpu, 1) if b_cpu else None,
                       "turn_wall_p50_vs_baseline": round(pct(all_walls, 0.5) / max(pct(b_walls, 0.5), 1e-3), 1)},
            "capacity_estimate_turns_per_s_on_2_cores": round(2000 / total_cpu, 1) if total_cpu else None,
        }, indent=1))
    finally:
        st.stop()


if __name__ == "__main__":
    main()
