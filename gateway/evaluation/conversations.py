"""Play scripted conversations through a gateway and judge every turn (docs/eval-conversations.md).

A conversation whose turns name an order, and that does not test verification itself
(`"verify": false`), opens as a shopper the shop has signed in for that order's email, so the
shopper's words stay exactly as the corpus has them.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from gateway.evaluation.judge import Observed, Verdict, judge
from gateway.evaluation.placeholders import Filled, ShopData, fill
from gateway.orders.verify import sign_identity
from gateway.reply_check import form
from kefu.contracts import ReplyContext
from kefu.db import Order, session_factory

FAILURES_SHOWN = 25


@dataclass
class Run:
    url: str
    sql_url: str
    identity_secret: str | None = None
    timeout_s: float = 60.0
    results: list[dict[str, Any]] = field(default_factory=list)


def load(path: Path, split: str | None = None, lang: str | None = None) -> list[dict[str, Any]]:
    convs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [c for c in convs if (not split or c.get("split") == split) and (not lang or c.get("lang") == lang)]


def _order_state(sql_url: str, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    if not ids:
        return {}
    with session_factory(sql_url)() as s:
        rows = s.execute(select(Order).where(Order.id.in_(ids))).scalars()
        return {o.id: (o.status, o.refund_status, o.shipping_address) for o in rows}


def _actions(before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]) -> list[str]:
    out = []
    for oid, (st, refund, addr) in before.items():
        st2, refund2, addr2 = after.get(oid, (st, refund, addr))
        if st2 != st and st2 == "cancelled":
            out.append("cancel")
        if addr2 != addr:
            out.append("address")
        if refund2 != refund and refund2 == "return_requested":
            out.append("return")
    return out


def _open(c: httpx.Client, run: Run, conv: dict[str, Any], filled: Filled) -> tuple[str, dict[str, str]]:
    body: dict[str, Any] = {"lang": conv.get("lang", "en")}
    if filled.order and conv.get("verify", True) and run.identity_secret:
        email = filled.order["email"]
        body["identity"] = {"email": email, "signature": sign_identity(run.identity_secret, email)}
    r = c.post("/v1/conversations", json=body)
    r.raise_for_status()
    j = r.json()
    return j["conversation_id"], {"Authorization": f"Bearer {j['token']}"}


def _products(c: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in body.get("products") or []:
        r = c.get(f"/v1/shop/products/{p['id']}")
        if r.status_code == 200:
            out.append(r.json())
    return out


def play(run: Run, conv: dict[str, Any], shop: ShopData) -> None:
    filled = fill(conv, shop)
    ids = [o["id"] for o in filled.orders]
    with httpx.Client(base_url=run.url, timeout=run.timeout_s) as c:
        cid, auth = _open(c, run, conv, filled)
        for i, turn in enumerate(filled.turns):
            before = _order_state(run.sql_url, ids)
            t0 = time.perf_counter()
            r = c.post(f"/v1/conversations/{cid}/messages", json={"text": turn["user"]}, headers=auth)
            ms = (time.perf_counter() - t0) * 1000
            body: dict[str, Any] = r.json() if r.status_code == 200 else {"reply": {"text": ""}, "error": r.text[:300]}
            seen = Observed(body, _products(c, body) if "products_where" in turn["expect"] else [],
                            _actions(before, _order_state(run.sql_url, ids)))
            v: Verdict = judge(turn["expect"], seen) if r.status_code == 200 else Verdict(False, False, ["http"])
            run.results.append({"id": conv["id"], "turn": i, "lang": conv.get("lang", "en"), "split": conv.get("split"),
                                "source": conv.get("source"), "user": turn["user"], "reply": body["reply"]["text"],
                                "reply_source": body["reply"].get("source"), "degraded": body.get("degraded") or [],
                                "intent": (body.get("intent") or {}).get("name"), "ok": v.ok, "harmful": v.harmful,
                                "failed": v.failed, "ms": round(ms, 1), "form": _form(turn["user"], body)})


def _form(user: str, body: dict[str, Any]) -> list[str]:
    """The reply check's sentence rules over every reply the shopper read, template or generated
    (issue 18: no fragment anywhere), with the turn's products as the facts it may quote."""
    reply = body.get("reply") or {}
    if not reply.get("text"):
        return []
    ctx = ReplyContext(lang=reply.get("lang") or "en", intent=(body.get("intent") or {}).get("name") or "",
                       user_text=user, products=body.get("products") or [])
    return [f"{code}: {why}" for code, why in form(reply["text"], ctx)]


def _rate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    return {"n": n, "pass_rate": round(sum(r["ok"] for r in rows) / n, 4) if n else 0.0,
            "harmful": sum(r["harmful"] for r in rows)}


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        for key in ("lang", "source", "split"):
            groups[key][str(r[key])].append(r)
    ms = sorted(r["ms"] for r in results)
    out = {**_rate(results), **{f"by_{k}": {g: _rate(rows) for g, rows in v.items()} for k, v in groups.items()}}
    out["p50_ms"] = ms[len(ms) // 2] if ms else 0.0
    out["p90_ms"] = ms[int(len(ms) * 0.9)] if ms else 0.0
    # Which generator's words the shopper read (llm | template | cache): a generator that is
    # rejected on most turns is measured mostly on the templates that replaced it.
    out["reply_sources"] = dict(sorted(Counter(str(r.get("reply_source")) for r in results).items()))
    out["malformed_replies"] = [{"user": r["user"], "reply": r["reply"], "form": r["form"]}
                                for r in results if r.get("form")]
    out["failures"] = [{k: r[k] for k in ("id", "turn", "user", "reply", "intent", "failed")}
                       for r in results if not r["ok"]][:FAILURES_SHOWN]
    return out


def evaluate(run: Run, convs: list[dict[str, Any]], *, progress: bool = True) -> dict[str, Any]:
    shop = ShopData.load(run.sql_url)
    for n, conv in enumerate(convs, 1):
        play(run, conv, shop)
        if progress and (n % 25 == 0 or n == len(convs)):
            print(f"[eval] {n}/{len(convs)} conversations, {len(run.results)} turns", file=sys.stderr, flush=True)
    return summary(run.results)
