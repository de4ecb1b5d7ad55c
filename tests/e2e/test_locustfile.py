"""`make loadtest`'s Locust file works against the real stack: JSON and SSE turns both complete,
with no failures and every turn timed (a broken stream reader would silently measure nothing)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_locust_shoppers_complete_json_and_streamed_turns(stack, tmp_path: Path) -> None:
    times = tmp_path / "times.json"
    env = {**os.environ, "KEFU_LOCUST_THINK_S": "0.1-0.3", "KEFU_LOCUST_TIMES_OUT": str(times)}
    proc = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), "--headless", "-u", "6", "-r", "6",
         "-t", "10s", "--host", stack.url, "--csv", str(tmp_path / "run"), "--only-summary",
         "--stop-timeout", "10", "Shopper"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with (tmp_path / "run_stats.csv").open() as fh:
        total = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    assert int(total["Request Count"]) > 10 and int(total["Failure Count"]) == 0, total
    steps = [t[0] for t in json.loads(times.read_text())]
    assert any(s.endswith("(SSE)") for s in steps) and any(not s.endswith("(SSE)") for s in steps), steps
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
