"""A local stand-in for a Shopify store's GraphQL Admin API, for the Shopify adapter's tests (no
network here). It answers the operations the adapter sends — orders by name and by customer
email, orderCancel, orderUpdate, returnCreate — with bodies shaped as Shopify's GraphQL Admin
reference (2024-10) documents them: Order, Fulfillment (displayStatus, deliveredAt,
trackingInfo), MoneyBag, and the mutations' payloads with their user-error lists.

Run: python tests/gateway/orders/fake_shopify.py ORDERS.jsonl PORT TOKEN
(orders in kefu's JSONL shape, turned into Shopify orders named by their kefu ids.)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request

API = "/admin/api/2024-10/graphql.json"
FINANCIAL = {"pending": "PENDING", "paid": "PAID", "shipped": "PAID", "delivered": "PAID", "cancelled": "REFUNDED",
             "refunded": "REFUNDED"}


def to_shopify(n: int, o: dict[str, Any]) -> dict[str, Any]:
    shipped = o["status"] in ("shipped", "delivered")
    lines = [{"id": f"gid://shopify/FulfillmentLineItem/{n}{i}", "quantity": it.get("qty", 1),
              "lineItem": {"title": it.get("title")}} for i, it in enumerate(o.get("items") or [])]
    return {
        "id": f"gid://shopify/Order/{5000 + n}", "name": o["id"], "email": o.get("email"), "phone": o.get("phone"),
        "createdAt": o.get("created_at"), "cancelledAt": o.get("created_at") if o["status"] == "cancelled" else None,
        "displayFinancialStatus": FINANCIAL[o["status"]],
        "displayFulfillmentStatus": "FULFILLED" if shipped else "UNFULFILLED", "returnStatus": "NO_RETURN",
        "totalPriceSet": {"shopMoney": {"amount": f"{o.get('total', 0):.2f}",
                                        "currencyCode": o.get("currency", "USD")}},
        "lineItems": {"nodes": [{"title": it.get("title"), "quantity": it.get("qty", 1),
                                 "originalUnitPriceSet": {"shopMoney": {"amount": f"{it.get('price', 0):.2f}"}},
                                 "product": {"id": f"gid://shopify/Product/{it.get('product_id')}"}}
                                for it in o.get("items") or []]},
        "shippingAddress": {"address1": o.get("shipping_address"), "address2": None, "city": None, "province": None,
                            "zip": o.get("postcode"), "country": None},
        "fulfillments": [{"createdAt": o.get("shipped_at"), "deliveredAt": o.get("delivered_at"),
                          "estimatedDeliveryAt": o.get("eta"),
                          "displayStatus": "DELIVERED" if o["status"] == "delivered" else "IN_TRANSIT",
                          "trackingInfo": [{"company": o.get("carrier"), "number": o.get("tracking_number")}],
                          "fulfillmentLineItems": {"nodes": lines}}] if shipped else [],
    }


class Store:
    def __init__(self, orders: list[dict[str, Any]]) -> None:
        self.orders = {o["id"]: to_shopify(i, o) for i, o in enumerate(orders)}
        self.calls: list[str] = []
        self.returns: list[dict[str, Any]] = []

    def by_gid(self, gid: str) -> dict[str, Any]:
        for o in self.orders.values():
            if o["id"] == gid:
                return o
        raise KeyError(gid)

    def op(self, name: str, v: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(name)
        if name == "KefuOrderByName":
            want = v["q"].removeprefix("name:").lstrip("#")
            return {"orders": {"nodes": [o for k, o in self.orders.items() if k.lstrip("#") == want]}}
        if name == "KefuCustomerOrders":
            email = v["q"].removeprefix("email:").lower()
            mine = [o for o in self.orders.values() if (o["email"] or "").lower() == email]
            return {"orders": {"nodes": sorted(mine, key=lambda o: o["createdAt"] or "", reverse=True)[: v["n"]]}}
        if name == "KefuCancel":
            o = self.by_gid(v["id"])
            if o["cancelledAt"]:
                return {"orderCancel": {"job": None, "orderCancelUserErrors": [
                    {"field": ["orderId"], "message": "Order has already been cancelled", "code": "INVALID"}]}}
            o["cancelledAt"], o["displayFinancialStatus"] = "2026-12-02T00:00:00Z", "REFUNDED"
            return {"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": []}}
        if name == "KefuUpdateAddress":
            o = self.by_gid(v["input"]["id"])
            o["shippingAddress"] = {**o["shippingAddress"], **v["input"]["shippingAddress"]}
            return {"orderUpdate": {"order": {"id": o["id"]}, "userErrors": []}}
        if name == "KefuReturnCreate":
            o = self.by_gid(v["input"]["orderId"])
            if not v["input"]["returnLineItems"]:
                return {"returnCreate": {"return": None, "userErrors": [
                    {"field": ["returnLineItems"], "message": "Return line items can't be blank"}]}}
            o["returnStatus"] = "RETURN_REQUESTED"
            self.returns.append(v["input"])
            ret = {"id": f"gid://shopify/Return/{len(self.returns)}", "name": f"{o['name']}-R{len(self.returns)}",
                   "status": "REQUESTED"}
            return {"returnCreate": {"return": ret, "userErrors": []}}
        raise HTTPException(400, f"unknown operation {name}")


def create_app(store: Store, token: str) -> FastAPI:
    app = FastAPI()

    @app.post(API)
    async def graphql(request: Request, x_shopify_access_token: str = Header("")) -> dict[str, Any]:
        if x_shopify_access_token != token:
            raise HTTPException(401, "[API] Invalid API key or access token (unrecognized login or wrong password)")
        body = await request.json()
        m = re.match(r"\s*(?:query|mutation)\s+(\w+)", body.get("query") or "")
        if not m:
            return {"errors": [{"message": "no operation name"}]}
        return {"data": store.op(m.group(1), body.get("variables") or {})}

    @app.get("/_state/{name}")  # for the tests: the store's order as it is now, and the calls made
    async def state(name: str) -> dict[str, Any]:
        return {"order": store.orders.get(name), "calls": store.calls, "returns": store.returns}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    rows = [json.loads(x) for x in Path(sys.argv[1]).read_text().splitlines() if x.strip()]
    uvicorn.run(create_app(Store(rows), sys.argv[3]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
