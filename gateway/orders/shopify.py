"""A Shopify store's orders, through the GraphQL Admin API with Shopify's own client library
(`ShopifyAPI`: session headers, the GraphQL endpoint). REST is legacy at Shopify since 2024-10,
so every call here is GraphQL: orders by name or by customer email, `orderCancel`,
`orderUpdate` (shipping address) and `returnCreate`.

Shopify has no idempotency key on these mutations, so actions go through kefu's own action log
(`order_actions`, the same table the SQL adapter uses): a retried confirmation answers the first
result and never cancels or returns twice. The client library is synchronous and keeps its
session per thread, so every call runs in one worker thread that holds the session.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import shopify

from gateway.orders.source import ActionResult, Contact, OrderRecord
from kefu.db import OrderAction, session_factory

ORDER_FIELDS = """id name email phone createdAt cancelledAt displayFinancialStatus displayFulfillmentStatus returnStatus
  totalPriceSet { shopMoney { amount currencyCode } }
  lineItems(first: 20) { nodes { title quantity originalUnitPriceSet { shopMoney { amount } } product { id } } }
  shippingAddress { address1 address2 city province zip country }
  fulfillments(first: 5) { createdAt deliveredAt estimatedDeliveryAt displayStatus
    trackingInfo(first: 1) { company number }
    fulfillmentLineItems(first: 20) { nodes { id quantity lineItem { title } } } }"""
Q_BY_NAME = "query KefuOrderByName($q: String!) { orders(first: 1, query: $q) { nodes { FIELDS } } }".replace(
    "FIELDS", ORDER_FIELDS)
Q_BY_EMAIL = ("query KefuCustomerOrders($q: String!, $n: Int!) { orders(first: $n, query: $q, sortKey: CREATED_AT, "
              "reverse: true) { nodes { FIELDS } } }").replace("FIELDS", ORDER_FIELDS)
M_CANCEL = ("mutation KefuCancel($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, refund: true, restock: true, "
            "notifyCustomer: true) { job { id done } orderCancelUserErrors { field message code } } }")
M_ADDRESS = ("mutation KefuUpdateAddress($input: OrderInput!) { orderUpdate(input: $input) { order { id } "
             "userErrors { field message } } }")
M_RETURN = ("mutation KefuReturnCreate($input: ReturnInput!) { returnCreate(returnInput: $input) { "
            "return { id name status } userErrors { field message } } }")
RETURN_STATUS = {"RETURN_REQUESTED": "return_requested", "IN_PROGRESS": "return_requested",
                 "RETURNED": "return_received", "INSPECTION_COMPLETE": "return_received"}
REASONS = {"faulty": "DEFECTIVE", "damaged": "DEFECTIVE", "wrong_item": "WRONG_ITEM", "other": "OTHER"}


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def status_of(o: dict[str, Any]) -> str:
    """Shopify's financial/fulfillment states as kefu's six statuses."""
    fin = o.get("displayFinancialStatus")
    fuls = o.get("fulfillments") or []
    if o.get("cancelledAt"):
        return "cancelled"
    if fin == "REFUNDED":
        return "refunded"
    if fuls:
        delivered = any(f.get("deliveredAt") or f.get("displayStatus") == "DELIVERED" for f in fuls)
        return "delivered" if delivered else "shipped"
    return "pending" if fin in ("PENDING", "AUTHORIZED", "PARTIALLY_PAID", "EXPIRED") else "paid"


def record_of(o: dict[str, Any]) -> OrderRecord:
    fuls = o.get("fulfillments") or []
    track = ((fuls[0].get("trackingInfo") or [{}])[0] if fuls else {}) or {}
    money = (o.get("totalPriceSet") or {}).get("shopMoney") or {}
    addr = o.get("shippingAddress") or {}
    items = [{"title": n.get("title"), "qty": n.get("quantity"),
              "price": float(((n.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount") or 0),
              "product_id": (n.get("product") or {}).get("id")} for n in (o.get("lineItems") or {}).get("nodes", [])]
    facts = {
        "id": o["name"], "status": status_of(o), "carrier": track.get("company"),
        "tracking_number": track.get("number"), "eta": _day(fuls[0].get("estimatedDeliveryAt")) if fuls else None,
        "total": round(float(money.get("amount") or 0.0), 2), "currency": money.get("currencyCode") or "USD",
        "refund_status": "completed" if o.get("displayFinancialStatus") == "REFUNDED"
        else RETURN_STATUS.get(str(o.get("returnStatus") or "")),
        "created_at": _day(o.get("createdAt")), "shipped_at": _day(fuls[0].get("createdAt")) if fuls else None,
        "delivered_at": _day(next((f.get("deliveredAt") for f in fuls if f.get("deliveredAt")), None)),
        "items": items, "gid": o["id"],
    }
    text = ", ".join(str(addr[k]) for k in ("address1", "address2", "city", "province", "zip", "country")
                     if addr.get(k))
    return OrderRecord(facts, Contact(email=o.get("email") or "", phone=o.get("phone") or "",
                                      postcode=addr.get("zip") or "", address=text))


class ShopifyOrders:
    name = "shopify"

    def __init__(self, admin_url: str, token: str, timeout_s: float, sql_url: str | None = None) -> None:
        if not admin_url or not token:
            raise ValueError("KEFU_ORDERS=shopify needs KEFU_ORDERS_URL (https://STORE.myshopify.com/admin/api/"
                             "VERSION) and KEFU_ORDERS_TOKEN (an Admin API access token)")
        self.site, self.token, self.timeout_s = admin_url.rstrip("/"), token, timeout_s
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shopify")
        self.sql_url = sql_url
        self._fl_cache: dict[str, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------------ the client, in its thread
    def _gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        shopify.ShopifyResource.set_site(self.site)
        shopify.ShopifyResource.get_headers()["X-Shopify-Access-Token"] = self.token
        out = json.loads(shopify.GraphQL().execute(query, variables))
        if out.get("errors"):
            raise RuntimeError(f"shopify: {out['errors']}")
        return out["data"]

    async def _call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(self.pool, self._gql, query, variables), self.timeout_s)

    # ------------------------------------------------------------------ reads
    async def _by_name(self, order_id: str) -> dict[str, Any] | None:
        nodes = (await self._call(Q_BY_NAME, {"q": f"name:{order_id.lstrip('#')}"}))["orders"]["nodes"]
        return nodes[0] if nodes else None

    async def lookup(self, order_id: str) -> OrderRecord | None:
        node = await self._by_name(order_id)
        if node is None:
            return None
        self._fl_cache[node["name"]] = [li for f in node.get("fulfillments") or []
                                        for li in (f.get("fulfillmentLineItems") or {}).get("nodes", [])]
        return record_of(node)

    async def by_customer(self, email: str, limit: int = 10) -> list[OrderRecord]:
        data = await self._call(Q_BY_EMAIL, {"q": f"email:{email}", "n": limit})
        return [record_of(n) for n in data["orders"]["nodes"]]

    # ------------------------------------------------------------------ actions (once per key)
    def _done(self, key: str) -> ActionResult | None:
        if not self.sql_url:
            return None
        with session_factory(self.sql_url)() as s:
            row = s.get(OrderAction, key)
            return None if row is None else ActionResult(bool(row.result.get("ok")), str(row.result.get("reason")),
                                                          None, dict(row.result.get("detail") or {}))

    def _log(self, key: str, order_id: str, action: str, params: dict[str, Any], res: ActionResult) -> None:
        if self.sql_url:
            with session_factory(self.sql_url).begin() as s:
                s.merge(OrderAction(key=key, order_id=order_id, action=action, params=params,
                                    result={"ok": res.ok, "reason": res.reason, "detail": res.detail}))

    async def _once(self, key: str, order_id: str, action: str, params: dict[str, Any], run: Any) -> ActionResult:
        if (done := await asyncio.to_thread(self._done, key)) is not None:
            return done
        rec = await self.lookup(order_id)
        if rec is None:
            return ActionResult(False, "not_found")
        res: ActionResult = await run(rec)
        await asyncio.to_thread(self._log, key, rec.id, action, params, res)
        return res

    async def cancel(self, order_id: str, key: str) -> ActionResult:
        async def run(rec: OrderRecord) -> ActionResult:
            if rec.status not in ("pending", "paid"):
                return ActionResult(False, "already_cancelled" if rec.status == "cancelled" else rec.status)
            out = (await self._call(M_CANCEL, {"id": rec.facts["gid"]}))["orderCancel"]
            errors = out.get("orderCancelUserErrors") or []
            return ActionResult(not errors, "cancelled" if not errors else str(errors[0].get("code") or "refused"),
                                detail={"refund": rec.status == "paid"})
        return await self._once(key, order_id, "cancel", {}, run)

    async def update_address(self, order_id: str, address: str, key: str) -> ActionResult:
        async def run(rec: OrderRecord) -> ActionResult:
            if rec.status not in ("pending", "paid"):
                return ActionResult(False, rec.status)
            data = {"input": {"id": rec.facts["gid"], "shippingAddress": {"address1": address}}}
            errors = (await self._call(M_ADDRESS, data))["orderUpdate"].get("userErrors") or []
            return ActionResult(not errors, "address_updated" if not errors else "refused", detail={"address": address})
        return await self._once(key, order_id, "address", {"address": address}, run)

    async def create_return(self, order_id: str, kind: str, items: list[dict[str, Any]], reason: str,
                            fee: float, key: str) -> ActionResult:
        async def run(rec: OrderRecord) -> ActionResult:
            if rec.status != "delivered":
                return ActionResult(False, rec.status)
            note = f"{kind} requested in chat" + (f": {json.dumps(items, ensure_ascii=False)[:200]}" if items else "")
            lines = [{"fulfillmentLineItemId": li["id"], "quantity": li["quantity"],
                      "returnReason": REASONS.get(reason, "OTHER"), "customerNote": note}
                     for li in self._fl_cache.get(rec.id, [])]
            out = (await self._call(M_RETURN, {"input": {"orderId": rec.facts["gid"], "returnLineItems": lines,
                                                         "notifyCustomer": True}}))["returnCreate"]
            if out.get("userErrors"):
                return ActionResult(False, "refused", detail={"errors": out["userErrors"]})
            ret = out.get("return") or {}
            return ActionResult(True, "return_created", detail={"return_id": ret.get("name") or ret.get("id"),
                                                                "kind": kind, "fee": fee})
        return await self._once(key, order_id, kind, {"kind": kind, "reason": reason, "fee": fee}, run)
