"""The tools a decision can name, behind small interfaces, so `act` (and its tests) need not
know whether the catalog is an HTTP service or the orders a SQL table or a shop's own API."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class Passage:
    """A piece of the shop's help content that may answer a question."""

    id: str  # stable across re-imports of the same document
    title: str  # the heading (or FAQ question) it sits under
    text: str
    source: str = ""  # the document it comes from (file, URL)
    lang: str = "en"
    score: float = 0.0  # the knowledge base's own relevance score (higher is better)


class Knowledge(Protocol):
    """The shop's help content: the passages that answer `question`, best first (`intent` is a
    hint a knowledge base may use or ignore). Empty when nothing answers it."""

    async def search(self, question: str, lang: str, intent: str | None = None, k: int = 3) -> list[Passage]: ...


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


class PolicySections:
    """The bundled policy text, one section per intent (gateway.policy): the whole section is the
    passage, whatever the question."""

    async def search(self, question: str, lang: str, intent: str | None = None, k: int = 3) -> list[Passage]:
        sec = policy.section_for(intent, lang) if intent else None
        if sec is None:
            return []
        return [Passage(id=f"policy:{lang}:{sec[0]}", title=sec[0], text=sec[1], source=f"policy/{lang}.md", lang=lang,
                        score=1.0)]
