"""The interface every order system is reached through, and the values it returns.

`OrderRecord.facts` is what a *verified* shopper may be told (and what the reply prompt may
carry); `OrderRecord.contact` holds the factors that prove an order is the shopper's (email,
phone, postcode) and the address — used to verify, never stated. Actions carry an idempotency
key: the same key twice acts once and answers the first result again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gateway.config import GatewaySettings


@dataclass
class Contact:
    email: str = ""
    phone: str = ""
    postcode: str = ""
    address: str = ""


@dataclass
class OrderRecord:
    facts: dict[str, Any]
    contact: Contact = field(default_factory=Contact)

    @property
    def id(self) -> str:
        return str(self.facts["id"])

    @property
    def status(self) -> str:
        return str(self.facts.get("status") or "")


@dataclass
class ActionResult:
    """What an action did: `ok`, a machine-readable `reason` (done, shipped, not_found…), the
    order as read back afterwards, and details (a return's fee, the new address)."""

    ok: bool
    reason: str
    order: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, **self.detail}


class OrderSource(Protocol):
    """An order system. Calls may block on I/O; they are async so HTTP adapters need no thread."""

    name: str

    async def lookup(self, order_id: str) -> OrderRecord | None: ...

    async def by_customer(self, email: str, limit: int = 10) -> list[OrderRecord]: ...

    async def cancel(self, order_id: str, key: str) -> ActionResult: ...

    async def update_address(self, order_id: str, address: str, key: str) -> ActionResult: ...

    async def create_return(self, order_id: str, kind: str, items: list[dict[str, Any]], reason: str,
                            fee: float, key: str) -> ActionResult: ...


def make_source(settings: GatewaySettings) -> OrderSource:
    """The adapter `KEFU_ORDERS` names: `sql` (default), `webhook` or `shopify`."""
    kind = settings.orders_source.strip().lower()
    if kind == "webhook":
        from gateway.orders.webhook import WebhookOrders

        return WebhookOrders(settings.orders_url, settings.orders_token, settings.http_timeout_s)
    if kind == "shopify":
        from gateway.orders.shopify import ShopifyOrders

        return ShopifyOrders(settings.orders_url, settings.orders_token, settings.http_timeout_s, settings.sql_url)
    from gateway.orders.sql import SqlOrders

    return SqlOrders(settings.sql_url)
