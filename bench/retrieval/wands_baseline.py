"""Same-run baseline for WANDS-5k: plain BM25 (bm25s defaults: English stopwords, no stemming,
one concatenated field title + class + description), scored with the same metric code as
`kefu retrieval eval`, so RESULTS.md can give ratios against it.

    .venv/bin/python bench/retrieval/wands_baseline.py --dir /tmp/kefu-wands   # after wands_prep.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import bm25s
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from services.retrieval.evaluate import mrr, ndcg, read_qrels, read_queries, recall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/kefu-wands")
    args = ap.parse_args()
    d = Path(args.dir)
    prods = [json.loads(line) for line in (d / "catalog.jsonl").open(encoding="utf-8")]
    ids = [p["id"] for p in prods]
    corpus = [" ".join([p["title"], p.get("category", ""), p.get("description", "")]) for p in prods]
    bm = bm25s.BM25()
    bm.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    qrels = read_qrels(d / "qrels.csv")
    nd, rc, rr = [], [], []
    for qid, text in read_queries(d / "queries.csv"):
        if not any(g > 0 for g in qrels.get(qid, {}).values()):
            continue
        toks = bm25s.tokenize([text], stopwords="en", show_progress=False, return_ids=False)[0]
        scores = bm.get_scores(toks)
        top = np.argsort(-scores, kind="stable")[:100]
        ranked = [ids[i] for i in top if scores[i] > 0]
        nd.append(ndcg(ranked, qrels[qid], 10))
        rc.append(recall(ranked, qrels[qid], 100))
        rr.append(mrr(ranked, qrels[qid], 10))
    print(json.dumps({"baseline": "bm25s plain", "n": len(nd), "ndcg@10": round(float(np.mean(nd)), 4),
                      "recall@100": round(float(np.mean(rc)), 4), "mrr@10": round(float(np.mean(rr)), 4)}))


if __name__ == "__main__":
    main()
