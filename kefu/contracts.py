"""Wire models shared between services (the gateway's view of intent, dialog, retrieval).

Each service's `schemas.py` re-exports or extends these; changes here must stay additive
because the gateway and the service are deployed separately.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# ---------------------------------------------------------------- intent (:8001)

IntentStage = Literal["fasttext", "rerank", "oos"]


class ClassifyRequest(BaseModel):
    text: str = Field(..., description="The shopper's message (standalone form if rewritten)")
    k: int = Field(5, ge=1, le=50, description="How many candidates to return")


class IntentCandidate(BaseModel):
    label: str
    score: float


class ClassifyResponse(BaseModel):
    intent: str
    confidence: float
    stage: str = Field(..., description="'fasttext' (pre-screen was sure) or 'rerank'")
    candidates: list[IntentCandidate] = []
    out_of_scope: bool = False
    # Every need the message carries, the main one first (`intent`); a second one only from the
    # LLM's structured reading (KEFU_INTENT_RERANKER=llm), as are `slots` and `goal`.
    intents: list[str] = []
    slots: dict[str, str] = {}
    goal: str | None = Field(None, description="new | continue | switch | drop | none (LLM reading only)")
    model_version: str = ""
    latency_ms: float = 0.0


# ---------------------------------------------------------------- retrieval (:8003)


class SearchFilters(BaseModel):
    price_min: float | None = None
    price_max: float | None = None
    category: str | None = None
    brand: str | None = None
    in_stock: bool | None = None
    # attribute facets of the catalog (`attributes.color`, `.sizes`, `.material`, `.gender`): what a
    # conversational search refines by ("in black", "in XL", "not leather", "for women")
    color: str | None = Field(None, max_length=64)
    size: str | None = Field(None, max_length=32)
    material: str | None = Field(None, max_length=64, description="a word of the product's material")
    material_not: str | None = Field(None, max_length=64, description="a material word the product must not have")
    gender: str | None = Field(None, max_length=16)


class SearchRequest(BaseModel):
    query: str
    k: int = Field(10, ge=1, le=100)
    filters: SearchFilters | None = None
    parse_filters: bool = Field(True, description="Also read filters from the query text")


class ProductHit(BaseModel):
    id: str
    title: str
    price: float | None = None
    currency: str = "USD"
    category: str = ""
    brand: str = ""
    stock: int = 0
    url: str = ""
    image_url: str = ""
    description: str = ""
    attributes: dict[str, Any] = {}
    score: float = 0.0
    scorers: dict[str, float] = Field(default_factory=dict, description="scorer -> its own score")


class SearchResponse(BaseModel):
    hits: list[ProductHit]
    filters: SearchFilters = SearchFilters()
    query: str = ""
    index_version: str = ""
    latency_ms: float = 0.0


# ---------------------------------------------------------------- dialog (:8002)

ConversationStatus = Literal["bot", "pending_human", "human"]


class Turn(BaseModel):
    """One exchange in the five-turn window."""

    message_id: str = ""
    user: str = ""
    bot: str = ""
    role: str = "bot"  # who answered: bot|agent
    intent: str | None = None
    products: list[str] = []
    ts: float = 0.0


class DialogState(BaseModel):
    conversation_id: str
    status: ConversationStatus = "bot"
    turns: list[Turn] = []
    slots: dict[str, Any] = {}
    lang: str = "en"


class ResolveRequest(BaseModel):
    text: str


class ResolveResponse(BaseModel):
    """The message made standalone, with slots merged from the window."""

    standalone: str
    rewritten: bool = False
    slots: dict[str, Any] = {}
    referenced_products: list[str] = []
    topic_changed: bool = False
    state: DialogState


class RecordTurnRequest(BaseModel):
    message_id: str
    user_text: str | None = None
    reply_text: str
    role: Literal["bot", "agent"] = "bot"
    intent: str | None = None
    confidence: float | None = None
    stage: str | None = None
    slots: dict[str, Any] = {}
    products: list[str] = []
    evidence: dict[str, Any] = {}
    latency_ms: float | None = None
    fence: int | None = Field(None, description="Fencing token from the conversation lock")


class LockResponse(BaseModel):
    lease_id: str
    fence: int


# Bounds of dialog's conversation lock: a caller may queue at most MAX_LOCK_WAIT_MS (the gateway's
# whole lock budget; longer waits held a request and a Redis wake key per caller for up to ten
# minutes) and hold a lease at most MAX_LOCK_TTL_MS (a crashed holder frees it by then).
MAX_LOCK_WAIT_MS = 5000
MAX_LOCK_TTL_MS = 60000


# ---------------------------------------------------------------- generation (:8004)


class ReplyContext(BaseModel):
    """Everything the responder may state; the grounding check compares replies against it."""

    lang: str = "en"
    intent: str
    user_text: str
    slots: dict[str, Any] = {}
    order: dict[str, Any] | None = None
    products: list[dict[str, Any]] = []
    policy: str | None = None
    history: list[Turn] = []
    note: str | None = Field(None, description="e.g. why an order cannot be cancelled")
    # How the turn ends (gateway.turn.decide.conclude) and what it says about an order action.
    move: str = "answer"
    found_order: str | None = Field(None, description="an order that exists but is not verified yet")
    verify: dict[str, Any] = Field(default_factory=dict, description="factor asked, failed, locked")
    offer: dict[str, Any] | None = Field(None, description="what an action would do (asked for a yes)")
    action: dict[str, Any] | None = Field(None, description="what a confirmed action did")
    refusal: str | None = Field(None, description="why the asked action is not possible")
    declined: bool = False
    customer_orders: list[dict[str, Any]] = []
    # The knowledge base's passages for this question, best first ({id, title, text, answer,
    # source}); `knowledge` is "none" when it was asked and had no answer.
    passages: list[dict[str, Any]] = []
    knowledge: str | None = None
    shipping: dict[str, Any] | None = Field(None, description="a product's price with the shop's shipping rules")
    search_unavailable: bool = Field(False, description="the catalog search failed (retrieval down or its "
                                                        "breaker open): say so, never that nothing matched")
    shopping: dict[str, Any] | None = Field(None, description="a shopping turn: kind, active search, asks, relaxations")
    # The shopper's goal across turns (gateway.turn.decide.goals) and how they feel.
    goal: dict[str, Any] | None = Field(None, description="the goal left pending after this turn")
    dropped: str | None = Field(None, description="the intent of a goal the shopper dropped this turn")
    mood: str = Field("neutral", description="frustrated | troubled | urgent | praise | neutral")
    clarify: bool = Field(False, description="the message named only a topic: ask one clarifying question")
