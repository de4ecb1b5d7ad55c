"""The tools a decision can name, behind small interfaces, so `act` (and its tests) need not
know whether the catalog is an HTTP service or the orders a SQL table or a shop's own API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gateway.clients import Dependencies
from kefu.contracts import SearchFilters, SearchRequest, SearchResponse

SEARCH_K = 5
QUERY_CHARS = 500


class Catalog(Protocol):
    async def search(self, query: str) -> SearchResponse: ...

    async def products(self, ids: list[str]) -> list[dict[str, Any]]: ...

    async def search_with(self, query: str, filters: SearchFilters, k: int) -> SearchResponse: ...


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
    answer: str = ""  # its one or two sentences closest to the question (what a template quotes)


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

    async def search_with(self, query: str, filters: SearchFilters, k: int) -> SearchResponse:
        """A search under the conversation's constraints (they win over what the words say)."""
        return await self.deps.search(SearchRequest(query=query[:QUERY_CHARS], k=k, filters=filters))

    async def products(self, ids: list[str]) -> list[dict[str, Any]]:
        """Products the shopper referred to, in one request (an unknown id is skipped)."""
        if not ids:
            return []
        return [{**p, "score": 1.0, "scorers": {"referenced": 1.0}}
                for p in await self.deps.get_products(ids) if isinstance(p, dict) and p.get("id")]


class ServiceKnowledge:
    """The shop's knowledge base in the retrieval service: passages that answer this question
    (hybrid search, re-ranked, none below its no-answer threshold)."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    async def search(self, question: str, lang: str, intent: str | None = None, k: int = 3) -> list[Passage]:
        found = await self.deps.kb_search(question[:QUERY_CHARS], lang, intent, k)
        return [Passage(id=str(p["id"]), title=str(p.get("title") or ""), text=str(p.get("text") or ""),
                        source=str(p.get("source") or ""), lang=str(p.get("lang") or lang),
                        score=float(p.get("score") or 0.0), answer=str(p.get("answer") or ""))
                for p in found if isinstance(p, dict) and p.get("id")]
