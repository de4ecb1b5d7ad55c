"""`kefu kb eval`: how well the knowledge base answers a set of shopper questions.

Questions file: CSV with `question,lang` and either `answer_passage_id` (one or more passage
references separated by `|`; a reference is a passage id or `FILE#KEY`, e.g. `en.md#shipping:1`)
or `answer_regex` (what the quoted answer must say), or both; an optional `split` column
(dev/test). A row with neither is a question the help text does not answer: the right outcome
is no answer at all.

- hit@1, hit@3, mrr: the ranking without the no-answer threshold, over answerable questions
  that name passages;
- answer_accuracy: the outcome a shopper gets — the quoted sentences match the regex (or come from
  a named passage) for answerable questions, and nothing is quoted for unanswerable ones;
- wrong_quotes: answers that quote a passage not about the question (the issue's "never");
- p50_ms / p99_ms: one search at a time, query embedding included (its cache off).
"""

from __future__ import annotations

import csv
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .index import Hit, KnowledgeBase


@dataclass
class Question:
    text: str
    lang: str
    refs: list[str]
    regex: re.Pattern[str] | None
    split: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.refs or self.regex)


def read_questions(path: Path, split: str | None = None) -> list[Question]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"question", "lang"} <= set(rows[0]):
        raise ValueError(f"{path}: expected columns question,lang and answer_passage_id and/or answer_regex")
    out = []
    for n, r in enumerate(rows, start=2):
        text = (r.get("question") or "").strip()
        if not text:
            continue
        rx = (r.get("answer_regex") or "").strip()
        try:
            pattern = re.compile(rx, re.IGNORECASE) if rx else None
        except re.error as exc:
            raise ValueError(f"{path}: row {n}: bad answer_regex: {exc}") from None
        refs = [x.strip() for x in (r.get("answer_passage_id") or "").split("|") if x.strip()]
        q = Question(text, (r.get("lang") or "en").strip() or "en", refs, pattern, (r.get("split") or "").strip())
        if split is None or q.split == split:
            out.append(q)
    return out


def ref_of(hit: Hit) -> str:
    """`FILE#KEY`: a passage named by its file and its place in it, whatever folder it came from."""
    return f"{Path(hit.source).name}#{hit.id.split(':', 1)[1] if ':' in hit.id else hit.id}"


def is_gold(hit: Hit, q: Question) -> bool:
    return hit.id in q.refs or ref_of(hit) in q.refs


def _rank(hits: list[Hit], q: Question) -> int | None:
    return next((i for i, h in enumerate(hits) if is_gold(h, q)), None)


def _correct(q: Question, answered: list[Hit]) -> tuple[bool, bool]:
    """(the shopper got the right outcome, a passage not about the question was quoted)."""
    if not q.answerable:
        return not answered, bool(answered)
    if not answered:
        return False, False
    top = answered[0]
    about = is_gold(top, q) if q.refs else bool(q.regex and q.regex.search(top.text))
    says = bool(q.regex.search(top.answer)) if q.regex else about
    return about and says, not about


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ranked = [r for r in rows if r["ranked"]]
    ranks = [r["rank"] for r in ranked]
    return {"n": len(rows), "answerable": sum(r["answerable"] for r in rows),
            "hit@1": round(float(np.mean([k == 0 for k in ranks])), 4) if ranks else None,
            "hit@3": round(float(np.mean([k is not None and k < 3 for k in ranks])), 4) if ranks else None,
            "mrr": round(float(np.mean([1 / (k + 1) if k is not None else 0 for k in ranks])), 4) if ranks else None,
            "answer_accuracy": round(float(np.mean([r["correct"] for r in rows])), 4) if rows else None,
            "wrong_quotes": sum(r["wrong"] for r in rows),
            "abstained_unanswerable": sum(not r["answerable"] and r["abstained"] for r in rows),
            "unanswerable": sum(not r["answerable"] for r in rows)}


def evaluate(kb: KnowledgeBase, questions: list[Question], *, rerank: bool = True,
             threshold: float | None | str = "default", details: bool = False) -> dict[str, Any]:
    kb.sync()
    kb.embedder.size = 0  # every query pays its embedding
    kb.embedder._cache.clear()
    kw: dict[str, Any] = {"rerank": rerank}
    if threshold != "default":
        kw["threshold"] = threshold
    rows: list[dict[str, Any]] = []
    times: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        ranked = kb.search(q.text, q.lang, None, k=10, rerank=rerank, threshold=None)
        times.append((time.perf_counter() - t0) * 1000)
        answered = kb.search(q.text, q.lang, None, k=3, **kw)
        ok, wrong = _correct(q, answered)
        rows.append({"question": q.text, "lang": q.lang, "answerable": q.answerable, "ranked": bool(q.refs),
                     "rank": _rank(ranked, q), "correct": ok, "wrong": wrong, "abstained": not answered,
                     "top": ref_of(ranked[0]) if ranked else None, "top_score": ranked[0].score if ranked else None,
                     "answer": answered[0].answer if answered else None})
    out = _summary(rows)
    out.update({"p50_ms": round(float(np.percentile(times, 50)), 2) if times else None,
                "p99_ms": round(float(np.percentile(times, 99)), 2) if times else None,
                "model": kb.embedder.model_id, "rerank": rerank, "passages": len(kb.index or []),
                "by_lang": {lang: _summary([r for r in rows if r["lang"] == lang])
                            for lang in sorted({r["lang"] for r in rows})}})
    if details:
        out["rows"] = rows
    return out
