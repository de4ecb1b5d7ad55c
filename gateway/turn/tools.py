"""The tools a decision can name, behind small interfaces, so `act` (and its tests) need not
know whether the catalog is an HTTP service or the orders a SQL table or a shop's own API."""

from __future__ import annotations

from typing import Any, Protocol

from gateway import policy
from gateway.clients import Dependencies
from kefu.contracts import SearchRequest, SearchResponse

SEARCH_K = 5
QUERY_CHARS = 500


class Catalog(Protocol):
    async def search(self, query: str) -> SearchResponse: ...

    async def products(self, ids: list[str]) -> list[dict[str, Any]]: ...


class CancelOutcome(Protocol):
    cancelled: bool
    order: dict[str, Any] | None
    reason: str


class Orders(Protocol):
    """Synchronous on purpose (SQL or a shop's HTTP API in a worker thread)."""

    def lookup(self, order_id: str) -> dict[str, Any] | None: ...

    def cancel(self, order_id: str) -> CancelOutcome: ...


class Policies(Protocol):
    def section(self, intent: str, lang: str) -> tuple[str, str] | None: ...


class ServiceCatalog:
    """The retrieval service: search, and products read by id (references)."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    async def search(self, query: str) -> SearchResponse:
        return await self.deps.search(SearchRequest(query=query[:QUERY_CHARS], k=SEARCH_K))

    async def products(self, ids: list[str]) -> list[dict[str, Any]]:
        """Products the shopper referred to, in one request (an unknown id is skipped)."""
        if not ids:
            return []
        return [{**p, "score": 1.0, "scorers": {"referenced": 1.0}}
                for p in await self.deps.get_products(ids) if isinstance(p, dict) and p.get("id")]


class BundledPolicies:
    """The shop's policy text, one section per intent (gateway.policy)."""

    def section(self, intent: str, lang: str) -> tuple[str, str] | None:
        return policy.section_for(intent, lang)
