"""Wire models of the retrieval service (search ones are the shared contracts)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from kefu.contracts import ProductHit, SearchFilters, SearchRequest, SearchResponse

__all__ = ["ProductHit", "SearchFilters", "SearchRequest", "SearchResponse", "SearchBody", "ProductIn",
           "ProductOut", "ProductList", "UpsertResult", "DeleteResult"]

MAX_QUERY_CHARS = 20_000


class SearchBody(SearchRequest):
    """SearchRequest with the service's input rules: a query must have some text in it."""

    @field_validator("query")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("query must not be empty")
        if len(v) > MAX_QUERY_CHARS:
            raise ValueError(f"query longer than {MAX_QUERY_CHARS} characters")
        return v


class ProductIn(BaseModel):
    id: str = Field(..., min_length=1, max_length=64)
    title: str = Field(..., min_length=1, max_length=512)
    description: str | None = ""
    category: str | None = ""
    brand: str | None = ""
    price: float | None = Field(None, ge=0)
    currency: str | None = "USD"
    stock: int | None = Field(0, ge=0)
    url: str | None = ""
    image_url: str | None = ""
    attributes: dict[str, Any] | None = None


class ProductOut(BaseModel):
    id: str
    title: str
    description: str = ""
    category: str = ""
    brand: str = ""
    price: float | None = None
    currency: str = "USD"
    stock: int = 0
    url: str = ""
    image_url: str = ""
    attributes: dict[str, Any] = {}
    updated_at: str | None = None


class ProductList(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


class UpsertResult(BaseModel):
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    index_version: str = ""


class DeleteResult(BaseModel):
    deleted: str
    index_version: str = ""


# ---------------------------------------------------------------- knowledge base

MAX_KB_DOC_CHARS = 2_000_000


class KbSearchBody(BaseModel):
    question: str = Field(..., description="The shopper's question (standalone form)")
    lang: str = Field("en", pattern="^(en|zh)$")
    intent: str | None = Field(None, max_length=64, description="the intent service's guess: a hint for the re-ranker")
    k: int = Field(3, ge=1, le=20)

    @field_validator("question")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("question must not be empty")
        return v[:2000]


class KbPassageOut(BaseModel):
    id: str
    document_id: str
    source: str
    title: str
    text: str
    lang: str
    score: float
    answer: str = Field("", description="the passage's one or two sentences closest to the question")
    scores: dict[str, float] = {}


class KbSearchResponse(BaseModel):
    passages: list[KbPassageOut]
    answered: bool
    latency_ms: float = 0.0


class KbDocumentIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=512, description="file name; its extension names the format "
                                                                     "(.md, .html, .txt, .csv)")
    content: str = Field(..., min_length=1, max_length=MAX_KB_DOC_CHARS)
    lang: str | None = Field(None, pattern="^(en|zh)$")
