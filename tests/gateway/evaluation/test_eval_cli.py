"""`kefu eval conversations` against a running gateway: the last stdout line is the JSON summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONVS = [
    {"id": "t-hi", "lang": "en", "split": "test", "source": "unit", "turns": [
        {"user": "hi", "expect": {"intents": ["greeting"], "handoff": False}}]},
    {"id": "t-order", "lang": "en", "split": "test", "source": "unit", "turns": [
        {"user": "where is my order {order:shipped}?", "expect": {"reply_matches": ["{order.id}"], "no_action": True}},
        {"user": "can you cancel it?", "expect": {"no_action": True, "harmful": ["has been cancel+ed"]}}]},
    {"id": "t-zh", "lang": "zh", "split": "dev", "source": "unit", "turns": [
        {"user": "你好", "expect": {"intents": ["greeting"]}}]},
]


def test_eval_conversations_against_a_gateway(gateway_factory, backend, tmp_path: Path) -> None:
    gw = gateway_factory(KEFU_IDENTITY_SECRET="eval-secret")
    f = tmp_path / "c.jsonl"
    f.write_text("".join(json.dumps(c) + "\n" for c in CONVS))
    env = {"KEFU_DATA_DIR": str(backend.data_dir), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "kefu.cli", "eval", "conversations", "--file", str(f),
                          "--gateway", gw.url, "--identity-secret", "eval-secret", "--json",
                          "--out", str(tmp_path / "r.jsonl")], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["n"] == 4 and set(res["by_lang"]) == {"en", "zh"} and res["harmful"] == 0
    assert res["pass_rate"] == 1.0, res["failures"]
    rows = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all("reply" in r for r in rows)
