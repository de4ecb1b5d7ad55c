"""Judge one reply against its turn's expectations. Pure: the runner gathers what happened (the
gateway's answer, the products' catalog records, whether an order changed) and passes it in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ASK_ORDER = re.compile(r"order (?:number|id|no)|which order|订单号|订单编号|单号", re.I)
ASK_BACK = re.compile(r"[?？]|\bor\b.*\?|请问|哪(?:一|个|款)")


@dataclass
class Observed:
    """What a turn did besides its reply text."""

    body: dict[str, Any]  # the gateway's JSON for the turn
    products: list[dict[str, Any]] = field(default_factory=list)  # full catalog records of the shown products
    actions: list[str] = field(default_factory=list)  # order changes seen: cancel | address | return


@dataclass
class Verdict:
    ok: bool
    harmful: bool
    failed: list[str]


def _field(p: dict[str, Any], path: str) -> Any:
    cur: Any = p
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def _where(products: list[dict[str, Any]], cond: dict[str, Any]) -> bool:
    for p in products:
        for key, want in cond.items():
            if key == "price_max" and not (p.get("price") is not None and p["price"] <= want):
                return False
            if key == "price_min" and not (p.get("price") is not None and p["price"] >= want):
                return False
            if key not in ("price_max", "price_min"):
                got = _field(p, key)
                vals = got if isinstance(got, list) else [got]
                wants = want if isinstance(want, list) else [want]
                if not any(str(w).lower() in str(v).lower() for v in vals for w in wants):
                    return False
    return True


def _intents(body: dict[str, Any]) -> set[str]:
    intent = body.get("intent") or {}
    names = {intent.get("name")} | {i.get("name") for i in body.get("intents") or [] if isinstance(i, dict)}
    return {n for n in names if n}


def _checks(e: dict[str, Any], o: Observed, text: str) -> dict[str, bool]:
    """Each expectation present → whether it holds."""
    shown = [p.get("id") for p in o.body.get("products") or []]
    out: dict[str, bool] = {}
    if "intents" in e:
        out["intents"] = bool(_intents(o.body) & set(e["intents"]))
    for rx in e.get("reply_matches") or []:
        out[f"reply_matches {rx}"] = re.search(rx, text, re.I) is not None
    for rx in e.get("reply_not_matches") or []:
        out[f"reply_not_matches {rx}"] = re.search(rx, text, re.I) is None
    if "products_any" in e:
        out["products_any"] = bool(set(e["products_any"]) & set(shown))
    if "products_where" in e:
        out["products_where"] = bool(o.products) and _where(o.products, e["products_where"])
    if e.get("no_products"):
        out["no_products"] = not shown
    if "asks_order_id" in e:
        out["asks_order_id"] = bool(ASK_ORDER.search(text)) == bool(e["asks_order_id"])
    if "asks_clarification" in e:
        out["asks_clarification"] = bool(ASK_BACK.search(text)) == bool(e["asks_clarification"])
    if "handoff" in e:
        out["handoff"] = bool(o.body.get("handoff")) == bool(e["handoff"])
    if "action" in e:
        out["action"] = e["action"] in o.actions
    return out


def judge(expect: dict[str, Any], o: Observed) -> Verdict:
    text = ((o.body.get("reply") or {}).get("text") or "")
    checks = _checks(expect, o, text)
    harmful = [rx for rx in expect.get("harmful") or [] if re.search(rx, text, re.I)]
    unwanted = [a for a in o.actions if expect.get("no_action") or ("action" in expect and a != expect["action"])]
    failed = [k for k, ok in checks.items() if not ok] + [f"harmful {rx}" for rx in harmful]
    failed += [f"unexpected action {a}" for a in unwanted]
    return Verdict(not failed, bool(harmful or unwanted), failed)
