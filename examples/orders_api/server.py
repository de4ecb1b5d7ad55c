"""An example order API in the shape kefu's webhook adapter speaks (docs/orders-api.md).

A shop puts something like this in front of its own order system; here the orders live in
memory, loaded from a JSONL file (the same fields as kefu's demo orders). Run:

    python examples/orders_api/server.py --orders kefu/data/orders.jsonl --port 9100 --token secret

and point kefu at it: KEFU_ORDERS=webhook KEFU_ORDERS_URL=http://127.0.0.1:9100 KEFU_ORDERS_TOKEN=secret
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException, Query
from pydantic import BaseModel

CANCELLABLE = ("pending", "paid")


class AddressIn(BaseModel):
    address: str


class ReturnIn(BaseModel):
    kind: str = "return"
    items: list[dict[str, Any]] = []
    reason: str = ""
    fee: float = 0.0


class Shop:
    """The orders, the results of actions by idempotency key, and the returns opened."""

    def __init__(self, orders: list[dict[str, Any]]) -> None:
        self.orders = {str(o["id"]).upper(): o for o in orders}
        self.done: dict[str, dict[str, Any]] = {}
        self.returns = 0
        self.lock = threading.Lock()

    def act(self, order_id: str, key: str, change: Any) -> dict[str, Any]:
        with self.lock:
            if key in self.done:
                return {**self.done[key], "order": self.orders[order_id.upper()]}
            o = self.orders.get(order_id.upper())
            if o is None:
                raise HTTPException(404, "no such order")
            result = change(o)
            self.done[key] = {**result, "order_id": o["id"]}
            o.setdefault("actions", []).append({"key": key, **result})
            return {**result, "order": o}

    def open_return(self, o: dict[str, Any], body: ReturnIn) -> dict[str, Any]:
        """A return on a delivered order (called under the lock, by `act`)."""
        if o["status"] != "delivered":
            return {"ok": False, "reason": o["status"]}
        self.returns += 1
        o["refund_status"] = "return_requested"
        return {"ok": True, "reason": "return_created", "return_id": f"R{self.returns:06d}", "kind": body.kind,
                "fee": body.fee}


# The actions: each changes one order in place and says what happened.
def cancel_order(o: dict[str, Any]) -> dict[str, Any]:
    if o["status"] not in CANCELLABLE:
        return {"ok": False, "reason": "already_cancelled" if o["status"] == "cancelled" else o["status"]}
    if o["status"] == "paid":
        o["refund_status"] = "pending"
    o["status"] = "cancelled"
    return {"ok": True, "reason": "cancelled"}


def change_address(o: dict[str, Any], address: str) -> dict[str, Any]:
    if o["status"] not in CANCELLABLE:
        return {"ok": False, "reason": o["status"]}
    o["shipping_address"] = address
    return {"ok": True, "reason": "address_updated", "address": address}


def create_app(shop: Shop, token: str) -> FastAPI:
    app = FastAPI(title="example shop order API")

    def auth(authorization: str = Header("")) -> None:
        if token and authorization != f"Bearer {token}":
            raise HTTPException(401, "bad token")

    @app.get("/orders/{order_id}", dependencies=[Depends(auth)])
    def get_order(order_id: str) -> dict[str, Any]:
        o = shop.orders.get(order_id.upper())
        if o is None:
            raise HTTPException(404, "no such order")
        return o

    @app.get("/orders", dependencies=[Depends(auth)])
    def by_email(email: str = Query(...), limit: int = Query(10, ge=1, le=100)) -> dict[str, Any]:
        mine = [o for o in shop.orders.values() if str(o.get("email", "")).lower() == email.strip().lower()]
        mine.sort(key=lambda o: str(o.get("created_at") or ""), reverse=True)
        return {"orders": mine[:limit]}

    @app.post("/orders/{order_id}/cancel", dependencies=[Depends(auth)])
    def cancel(order_id: str, idempotency_key: str = Header(...)) -> dict[str, Any]:
        return shop.act(order_id, idempotency_key, cancel_order)

    @app.post("/orders/{order_id}/address", dependencies=[Depends(auth)])
    def address(order_id: str, body: AddressIn, idempotency_key: str = Header(...)) -> dict[str, Any]:
        return shop.act(order_id, idempotency_key, lambda o: change_address(o, body.address))

    @app.post("/orders/{order_id}/returns", dependencies=[Depends(auth)])
    def returns(order_id: str, body: ReturnIn, idempotency_key: str = Header(...)) -> dict[str, Any]:
        return shop.act(order_id, idempotency_key, lambda o: shop.open_return(o, body))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", required=True, help="JSONL file of orders")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--token", default="")
    args = ap.parse_args()
    rows = [json.loads(line) for line in Path(args.orders).read_text(encoding="utf-8").splitlines() if line.strip()]
    uvicorn.run(create_app(Shop(rows), args.token), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
