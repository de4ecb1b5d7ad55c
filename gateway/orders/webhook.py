"""A shop's own order system behind a small JSON API (the contract: docs/orders-api.md; a
runnable example: examples/orders_api/server.py). Reads and actions are plain HTTP calls with a
bearer token; actions carry an `Idempotency-Key` header so a retried confirmation acts once."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from gateway.orders.source import ActionResult, Contact, OrderRecord

FACT_KEYS = ("id", "status", "carrier", "tracking_number", "eta", "total", "currency", "refund_status",
             "created_at", "shipped_at", "delivered_at", "items")
DATE_KEYS = ("eta", "created_at", "shipped_at", "delivered_at")


def record_from_json(d: dict[str, Any]) -> OrderRecord:
    """The API's order object as an OrderRecord (dates cut to the day, as the SQL adapter has them)."""
    facts = {k: d.get(k) for k in FACT_KEYS}
    for k in DATE_KEYS:
        facts[k] = str(facts[k])[:10] if facts.get(k) else None
    facts["total"] = round(float(d.get("total") or 0.0), 2)
    facts["currency"] = d.get("currency") or "USD"
    facts["items"] = [{k: i.get(k) for k in ("title", "qty", "product_id", "price")}
                      for i in (d.get("items") or []) if isinstance(i, dict)]
    contact = Contact(email=str(d.get("email") or ""), phone=str(d.get("phone") or ""),
                      postcode=str(d.get("postcode") or ""), address=str(d.get("shipping_address") or ""))
    return OrderRecord(facts, contact)


class WebhookOrders:
    name = "webhook"

    def __init__(self, base_url: str, token: str, timeout_s: float) -> None:
        if not base_url:
            raise ValueError("KEFU_ORDERS=webhook needs KEFU_ORDERS_URL (the shop's order API base URL)")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)

    @staticmethod
    def _path(order_id: str, tail: str = "") -> str:
        return f"/orders/{quote(order_id, safe='')}{tail}"

    async def lookup(self, order_id: str) -> OrderRecord | None:
        resp = await self.http.get(self._path(order_id))
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return record_from_json(resp.json())

    async def by_customer(self, email: str, limit: int = 10) -> list[OrderRecord]:
        resp = await self.http.get("/orders", params={"email": email, "limit": limit})
        resp.raise_for_status()
        return [record_from_json(o) for o in resp.json().get("orders", [])]

    async def _act(self, order_id: str, tail: str, key: str, body: dict[str, Any]) -> ActionResult:
        resp = await self.http.post(self._path(order_id, tail), json=body, headers={"Idempotency-Key": key})
        if resp.status_code == 404:
            return ActionResult(False, "not_found")
        resp.raise_for_status()
        d = resp.json()
        order = record_from_json(d["order"]).facts if isinstance(d.get("order"), dict) else None
        detail = {k: v for k, v in d.items() if k not in ("ok", "reason", "order")}
        return ActionResult(bool(d.get("ok")), str(d.get("reason") or ""), order, detail)

    async def cancel(self, order_id: str, key: str) -> ActionResult:
        return await self._act(order_id, "/cancel", key, {})

    async def update_address(self, order_id: str, address: str, key: str) -> ActionResult:
        return await self._act(order_id, "/address", key, {"address": address})

    async def create_return(self, order_id: str, kind: str, items: list[dict[str, Any]], reason: str,
                            fee: float, key: str) -> ActionResult:
        return await self._act(order_id, "/returns", key, {"kind": kind, "items": items, "reason": reason, "fee": fee})
