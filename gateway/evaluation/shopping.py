"""Scripted shopping conversations (kefu/data/eval/shopping_conversations.jsonl), read turn by
turn the way the gateway reads them, searched against the retrieval engine, scored:

- constraint accuracy: the active search after each search/refine turn equals the script's;
- satisfying turns: every product shown meets the script's constraints (a turn showing none
  counts only when no product in the catalog meets them: an honest no-match);
- attribute answers: a question about shown products asks what the script says, and the answer
  states that product's catalog value.

Run: `python -m gateway.evaluation.shopping [--split test]` (KEFU_DATA_DIR: an imported catalog).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.templates.products import answer_one
from gateway.turn.understand import shopping as sh
from kefu.contracts import SearchFilters, SearchRequest, Turn

EVAL = Path(__file__).resolve().parents[2] / "kefu" / "data" / "eval"
DATA = EVAL / "shopping_conversations.jsonl"  # written by hand (the examples among them)
GENERATED = EVAL / "shopping_generated.jsonl"  # gateway/evaluation/shopping_gen.py: every category
CONSTRAINTS = ("category", "color", "size", "material", "material_not", "gender", "price_min", "price_max",
               "in_stock", "warm")
Search = Callable[[str, SearchFilters], list[dict[str, Any]]]


def load(split: str | None = None, paths: tuple[Path, ...] = (DATA, GENERATED)) -> list[dict[str, Any]]:
    rows = [json.loads(line) for path in paths if path.exists()
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split in (None, r.get("split"))]


def satisfies(p: dict[str, Any], c: dict[str, Any]) -> bool:
    """Whether a catalog product meets the constraints (warmth is a preference, not a filter)."""
    a = p.get("attributes") or {}
    checks = [
        c.get("category") is None or p.get("category") == c["category"],
        c.get("color") is None or str(a.get("color", "")).lower() == c["color"],
        c.get("gender") is None or a.get("gender") in (c["gender"], "unisex"),
        c.get("size") is None or c["size"] in (a.get("sizes") or []),
        c.get("material") is None or c["material"] in str(a.get("material", "")).lower(),
        c.get("material_not") is None or c["material_not"] not in str(a.get("material", "")).lower(),
        c.get("price_max") is None or (p.get("price") is not None and p["price"] <= c["price_max"]),
        c.get("price_min") is None or (p.get("price") is not None and p["price"] >= c["price_min"]),
        not c.get("in_stock") or int(p.get("stock") or 0) > 0,
    ]
    return all(checks)


def _fact(p: dict[str, Any], ask: str, value: dict[str, Any]) -> str:
    a = p.get("attributes") or {}
    if ask == "size":
        return ", ".join(a.get("sizes") or []) or "no sizes"
    if ask == "material":
        return str(a.get("material") or "")
    if ask == "stock":
        return "in stock" if int(p.get("stock") or 0) > 0 else "out of stock"
    if ask == "price":
        return f"${float(p['price']):.2f}"
    return str(a.get(ask) or "")


def run(convs: list[dict[str, Any]], search: Search, catalog: dict[str, dict[str, Any]]) -> dict[str, Any]:
    n_c = ok_c = n_s = ok_s = n_a = ok_a = unrelated = 0
    failures: list[dict[str, Any]] = []
    for conv in convs:
        slots: dict[str, Any] = {}
        history: list[Turn] = []
        for turn in conv["turns"]:
            text = turn["text"]
            t = sh.read(text, "product_search" if "expect" in turn else "product_question", slots, history, [])
            if "expect" in turn:
                n_c += 1
                got = {k: v for k, v in (t.search if t else {}).items() if k in CONSTRAINTS}
                if t is not None and t.shift:
                    got = sh.shift_price(got, t.shift, [catalog[i]["price"] for i in sh.last_shown(history)])
                if got == turn["expect"]:
                    ok_c += 1
                else:
                    failures.append({"conv": conv["id"], "text": text, "want": turn["expect"], "got": got})
                hits = search(sh.query_text(got), SearchFilters(**sh.filters(got))) if t else []
                n_s += 1
                exp = turn["expect"]
                good = all(satisfies(catalog[h["id"]], exp) for h in hits)
                unrelated += sum(catalog[h["id"]].get("category") != exp.get("category") for h in hits)
                if hits and good or not hits and not any(satisfies(p, exp) for p in catalog.values()):
                    ok_s += 1
                else:
                    failures.append({"conv": conv["id"], "text": text, "shown": [h["id"] for h in hits]})
                slots["_search"] = got
                history.append(Turn(user=text, products=[h["id"] for h in hits]))
            else:
                n_a += 1
                shown = sh.last_shown(history)
                if t is None or t.kind != "attribute" or t.asks != turn["asks"] or not t.targets or not shown:
                    failures.append({"conv": conv["id"], "text": text, "asks": t.asks if t else None,
                                     "kind": t.kind if t else None})
                    continue
                p = catalog[t.targets[0]]
                answer = answer_one(p, t.asks, t.value, conv["lang"])
                fact = _fact(p, t.asks[0], t.value)
                if conv["lang"] == "zh" and t.asks[0] in ("stock",):
                    fact = "有货" if int(p.get("stock") or 0) > 0 else "缺货"
                if conv["lang"] == "zh" and t.asks[0] == "material":
                    fact = str((p.get("attributes") or {}).get("material_zh") or fact)
                if fact and fact in answer:
                    ok_a += 1
                else:
                    failures.append({"conv": conv["id"], "text": text, "answer": answer, "fact": fact})
    return {"conversations": len(convs), "turns": n_c + n_a,
            "constraint_accuracy": round(ok_c / max(1, n_c), 4), "constraint_turns": n_c,
            "satisfying_turns": round(ok_s / max(1, n_s), 4), "unrelated_products": unrelated,
            "attribute_accuracy": round(ok_a / max(1, n_a), 4), "attribute_turns": n_a, "failures": failures}


def engine_search(engine: Any) -> Search:
    """A search function over an in-process RetrievalEngine (what the gateway's retrieval call does)."""
    def search(query: str, filters: SearchFilters) -> list[dict[str, Any]]:
        res = engine.search(SearchRequest(query=query, k=5, filters=filters))
        return [h.model_dump() for h in res.hits]
    return search


def main(argv: list[str] | None = None) -> int:
    from kefu.settings import Settings
    from services.retrieval.catalog import index_rows
    from services.retrieval.engine import RetrievalEngine

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test", help="test | dev | all")
    args = ap.parse_args(argv)
    eng = RetrievalEngine(Settings(), verbose=False)
    eng.ensure_ready()
    catalog = {r["id"]: r for r in index_rows(eng.engine)}
    convs = load(None if args.split == "all" else args.split)
    report = run(convs, engine_search(eng), catalog)
    report["by_source"] = {src: {k: v for k, v in run([c for c in convs if c.get("source", "hand") == src],
                                                       engine_search(eng), catalog).items() if k != "failures"}
                           for src in sorted({c.get("source", "hand") for c in convs})}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
