"""Scoring the scenario set: slot accuracy and standalone-rewrite accuracy, turn by turn.

Each conversation is replayed through exactly the functions the service runs (context.resolve,
then the slot update of a recorded turn), keeping the window as the store keeps it. A turn's
slots count as right only when the whole slot dict equals the expected one; a rewrite is right
when the normalised standalone text equals the expected one (case, spacing, end punctuation).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.dialog import context as ctx
from services.dialog.store import WINDOW


def load_scenarios(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def catalog_of(convs: list[dict[str, Any]]) -> dict[str, ctx.ProductInfo]:
    info: dict[str, ctx.ProductInfo] = {}
    for c in convs:
        for pid, p in c.get("products", {}).items():
            info[pid] = ctx.ProductInfo(id=pid, title=p["title"], title_zh=p.get("title_zh", ""), price=p.get("price"))
    return info


def evaluate(convs: list[dict[str, Any]]) -> dict[str, Any]:
    info = catalog_of(convs)
    n = slots_ok = rw_ok = topic_ok = ref_ok = 0
    rewrite_turns = rewrite_turns_ok = 0
    by_lang: dict[str, list[int]] = {}
    failures = []
    for c in convs:
        window: list[ctx.WindowTurn] = []
        slots: dict[str, Any] = {}
        topic: str | None = None
        for i, t in enumerate(c["turns"]):
            exp = t["expect"]
            res = ctx.resolve(t["user"], window, slots, topic, info)
            s_ok = res.slots == exp["slots"]
            r_ok = ctx.normalise(res.standalone) == ctx.normalise(exp["standalone"])
            tc_ok = res.topic_changed == exp.get("topic_changed", False)
            rf_ok = res.referenced_products == exp.get("referenced_products", [])
            n += 1
            slots_ok += s_ok
            rw_ok += r_ok
            topic_ok += tc_ok
            ref_ok += rf_ok
            if ctx.normalise(exp["standalone"]) != ctx.normalise(t["user"]):
                rewrite_turns += 1
                rewrite_turns_ok += r_ok
            lang = by_lang.setdefault(c["lang"], [0, 0, 0])
            lang[0] += 1
            lang[1] += s_ok
            lang[2] += r_ok
            if not (s_ok and r_ok and tc_ok and rf_ok):
                failures.append({"conv": c["id"], "turn": i, "user": t["user"],
                                 "got": {"slots": res.slots, "standalone": res.standalone,
                                         "topic_changed": res.topic_changed, "refs": res.referenced_products},
                                 "want": exp})
            # what recording the turn does to the state
            slots, topic = res.slots, res.topic
            window.append(ctx.WindowTurn(user=t["user"], bot=t.get("bot", ""), products=t.get("products", [])))
            window = window[-WINDOW:]
    return {
        "conversations": len(convs), "turns": n,
        "slot_accuracy": round(slots_ok / n, 4) if n else None,
        "rewrite_accuracy": round(rw_ok / n, 4) if n else None,
        "rewrite_accuracy_on_followups": round(rewrite_turns_ok / rewrite_turns, 4) if rewrite_turns else None,
        "followup_turns": rewrite_turns,
        "topic_change_accuracy": round(topic_ok / n, 4) if n else None,
        "reference_accuracy": round(ref_ok / n, 4) if n else None,
        "by_lang": {k: {"turns": v[0], "slot_accuracy": round(v[1] / v[0], 4),
                        "rewrite_accuracy": round(v[2] / v[0], 4)} for k, v in by_lang.items()},
        "failures": failures,
    }
