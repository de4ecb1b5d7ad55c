"""`kefu orders import`: CSV or JSONL into the built-in table, a clear error per bad row, the good
rows written; re-importing an id updates it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gateway.orders.importer import import_orders
from kefu.db import Order, session_factory

ROOT = Path(__file__).resolve().parents[3]


def test_jsonl_with_bad_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    rows = [{"id": "KF200001", "email": "a@b.c", "status": "paid", "total": 12.5, "items": []},
            {"id": "KF200002", "status": "teleported"}, "not an object", {"email": "x@y.z"},
            {"id": "ORDER-9", "status": "paid"}, {"id": "KF200003", "status": "shipped", "created_at": "yesterday"}]
    f = tmp_path / "o.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    rep = import_orders(url, f)
    assert rep.written == 1
    reasons = {r["line"]: r["reason"] for r in rep.rejected}
    assert "status 'teleported'" in reasons[2] and "not a JSON object" in reasons[3]
    assert "id is missing" in reasons[4] and "order-id pattern" in reasons[5]
    assert "not an ISO date" in reasons[6] and "not valid JSON" in reasons[7]
    f.write_text(json.dumps({"id": "kf200001", "email": "a@b.c", "status": "shipped", "total": 12.5}) + "\n")
    assert import_orders(url, f).written == 1
    with session_factory(url)() as s:
        assert s.get(Order, "KF200001").status == "shipped"


def test_csv_through_the_command(tmp_path: Path) -> None:
    f = tmp_path / "orders.csv"
    f.write_text('id,email,status,total,items,postcode\n'
                 'KF300001,c@d.e,delivered,20,"[{""title"": ""Mug"", ""qty"": 2}]",10115\n'
                 'KF300002,c@d.e,paid,5,not json,\n')
    env = {"KEFU_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "kefu.cli", "orders", "import", "--file", str(f)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "imported 1 orders, rejected 1" in out.stdout and "line 3" in out.stdout and "items" in out.stdout
    with session_factory(f"sqlite:///{(tmp_path / 'kefu.db').resolve()}")() as s:
        o = s.get(Order, "KF300001")
        assert o.items == [{"title": "Mug", "qty": 2}] and o.postcode == "10115"
