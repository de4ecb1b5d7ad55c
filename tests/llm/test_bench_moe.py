"""bench/llm/bench_moe.py runs and says what it claims: every implementation's output is checked
against the seed loop inside the bench, and each row carries the floor (`expert_gemms`) that the
3x reading in BENCHMARKS.md rests on. Structure only: timings belong to the benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_moe_prints_rows_with_the_floor() -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "bench/llm/bench_moe.py", "--tokens", "1,16", "--sizes", "responder", "--rounds", "1",
           "--per-token-max", "1"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    rows = result["sizes"]["responder"]["tokens"]
    assert set(rows) == {"1", "16"}
    assert rows["1"]["path"] == "one_token" and "per_token_ms" in rows["1"] and "per_token_ms" not in rows["16"]
    for row in rows.values():
        for key in ("grouped_ms", "seed_naive_ms", "dispatch_grouped_ms", "dispatch_seed_naive_ms",
                    "expert_gemms_ms", "seed_over_expert_gemms", "dispatch_over_expert_gemms"):
            assert row[key] > 0, (key, row)
