"""Orders as the shop has them: one `OrderSource` interface and its adapters — the built-in SQL
table (`sql`), a shop's own JSON API (`webhook`, contract in docs/orders-api.md) and Shopify
(`shopify`) — plus what the bot may do with an order (`rules`) and how a shopper proves it is
theirs (`verify`)."""

from gateway.orders.source import ActionResult, Contact, OrderRecord, OrderSource, make_source

__all__ = ["ActionResult", "Contact", "OrderRecord", "OrderSource", "make_source"]
