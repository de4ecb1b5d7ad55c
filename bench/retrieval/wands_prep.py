"""WANDS-5k: turn ../shared/data/wands into a kefu catalog + queries/qrels, then (optionally) run
the contract commands on a fresh data dir so BENCHMARKS.md's figures reproduce from a checkout.

The 5,113 products with text become catalog rows (title = product_name, category =
product_class, description = the excerpt). Queries kept: those with at least one Exact product
among the 5,113 (201). Grades: Exact=2, Partial=1, Irrelevant=0; unjudged products count 0.
Nothing here is committed: outputs go to --out (default /tmp/kefu-wands).

    .venv/bin/python bench/retrieval/wands_prep.py --run       # prints one JSON line per mode
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

GRADES = {"Exact": 2, "Partial": 1, "Irrelevant": 0}
ROOT = Path(__file__).resolve().parents[2]


def prep(src: Path, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    csv.field_size_limit(10**8)
    products: dict[str, dict] = {}
    with (src / "product_subset_5113.tsv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            pid = r["product_id"].strip()
            products[pid] = {"id": pid, "title": r["product_name"].strip(),
                             "category": (r.get("product_class") or "").strip(),
                             "description": (r.get("product_description_excerpt") or "").strip()}
    with (out / "catalog.jsonl").open("w", encoding="utf-8") as fh:
        for p in products.values():
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    qrels: dict[str, dict[str, int]] = {}
    with (src / "label.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["product_id"] in products:
                qrels.setdefault(r["query_id"], {})[r["product_id"]] = GRADES[r["label"].strip()]
    keep = {q for q, rels in qrels.items() if any(g == 2 for g in rels.values())}
    n_q = 0
    with (src / "query.csv").open(encoding="utf-8") as fh, (out / "queries.csv").open("w", newline="") as qo:
        w = csv.writer(qo)
        w.writerow(["query_id", "text"])
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["query_id"] in keep:
                w.writerow([r["query_id"], r["query"]])
                n_q += 1
    n_rel = 0
    with (out / "qrels.csv").open("w", newline="") as qo:
        w = csv.writer(qo)
        w.writerow(["query_id", "product_id", "grade"])
        for q in sorted(keep, key=int):
            for pid, g in qrels[q].items():
                w.writerow([q, pid, g])
                n_rel += 1
    return {"products": len(products), "queries": n_q, "judgements": n_rel}


def kefu(*args: str, env: dict[str, str]) -> str:
    exe = str(ROOT / ".venv" / "bin" / "kefu") if (ROOT / ".venv" / "bin" / "kefu").exists() else "kefu"
    res = subprocess.run([exe, *args], env=env, check=True, stdout=subprocess.PIPE, text=True)
    return res.stdout.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default=str(ROOT.parent / "shared" / "data" / "wands"))
    ap.add_argument("--out", default="/tmp/kefu-wands")
    ap.add_argument("--run", action="store_true", help="import, build, eval in a fresh data dir")
    ap.add_argument("--modes", default="bm25,dense,hybrid")
    args = ap.parse_args()
    out = Path(args.out)
    counts = prep(Path(args.src), out)
    print(json.dumps({"prepared": str(out), **counts}), flush=True)
    if not args.run:
        return
    data = out / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = {**os.environ, "KEFU_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    t0 = time.perf_counter()
    kefu("catalog", "import", "--file", str(out / "catalog.jsonl"), env=env)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    kefu("index", "build", env=env)
    t_build = time.perf_counter() - t0
    results = {"import_s": round(t_import, 1), "index_build_s": round(t_build, 1)}
    for mode in args.modes.split(","):
        line = kefu("retrieval", "eval", "--queries", str(out / "queries.csv"), "--qrels",
                    str(out / "qrels.csv"), "--json", "--mode", mode, env=env)
        results[mode] = json.loads(line)
        print(json.dumps({"mode": mode, **results[mode]}), flush=True)
    print(json.dumps({"wands5k": {m: {k: results[m][k] for k in ("ndcg@10", "recall@100", "mrr@10", "p50_ms",
                                                                  "p99_ms")} for m in args.modes.split(",")},
                      "import_s": results["import_s"], "index_build_s": results["index_build_s"]}))


if __name__ == "__main__":
    sys.exit(main())
