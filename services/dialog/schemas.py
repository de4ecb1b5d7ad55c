"""Wire models of the dialog service: the shared contracts plus additive extensions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from kefu.contracts import (
    MAX_LOCK_TTL_MS,
    MAX_LOCK_WAIT_MS,
    ConversationStatus,
    DialogState,
    LockResponse,
    RecordTurnRequest,
    ResolveRequest,
    ResolveResponse,
    Turn,
)

__all__ = [
    "ConversationStatus", "DialogState", "LockResponse", "RecordTurnRequest", "ResolveRequest",
    "ResolveResponse", "Turn", "CreateConversation", "LockRequest", "StatusRequest", "DialogStateOut",
    "ResolveOut", "RecordTurnBody", "RecordTurnResponse", "ProductBrief", "TranscriptMessage",
    "TranscriptResponse", "ConversationSummary", "ConversationList", "ResolveBody",
]


class CreateConversation(BaseModel):
    conversation_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    lang: str = Field("en", max_length=8)
    fresh: bool = Field(False, description="the caller just generated this id (no SQL history to look "
                                           "for): skip the rebuild look-up")


class LockRequest(BaseModel):
    ttl_ms: int = Field(10000, ge=100, le=MAX_LOCK_TTL_MS,
                        description="lease length; a crashed holder frees it then")
    wait_ms: int = Field(MAX_LOCK_WAIT_MS, ge=0, le=MAX_LOCK_WAIT_MS,
                         description="how long to queue before 409 lock_timeout (longer: 422)")


class StatusRequest(BaseModel):
    status: ConversationStatus


class DialogStateOut(DialogState):
    """DialogState plus what the dashboard and debugging want (all optional for clients)."""

    topic: str | None = None
    seq: int = 0
    updated_at: str | None = None
    restored: bool = Field(False, description="rebuilt from SQL on this call (Redis had lost it)")


class ResolveBody(ResolveRequest):
    """Optional fusions that save a round trip per turn (one HTTP call instead of two or three)."""

    lock: LockRequest | None = Field(None, description="take the FIFO lock first, then resolve under it; "
                                                       "the answer carries lease_id and fence")
    create_lang: str | None = Field(None, max_length=8, description="create the conversation in this "
                                                                    "language if it does not exist")


class ResolveOut(ResolveResponse):
    state: DialogStateOut
    kind: str = Field("none", description="reference|cheaper|pricier|elliptical|order|none")
    ambiguous: bool = Field(False, description="a pronoun with several products shown and none in focus")
    topic: str | None = None
    context_scores: list[float] = Field(default_factory=list, description="relevance of each window turn")
    lang: str = "en"
    lease_id: str | None = Field(None, description="with `lock`: the lease to release")
    fence: int | None = Field(None, description="with `lock`: the fencing token for /turns")


class ProductBrief(BaseModel):
    id: str
    title: str
    title_zh: str = ""
    price: float | None = None


class RecordTurnBody(RecordTurnRequest):
    """Optional: product titles/prices for the ids in `products`, so references resolve without
    a catalog look-up (the service reads the products table otherwise)."""

    product_details: list[ProductBrief] = Field(default_factory=list)
    release_lease: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                      description="release this lock lease after recording (even if "
                                                  "recording fails): saves the separate unlock call")


class RecordTurnResponse(BaseModel):
    seq: int = Field(..., description="seq of the last message written by this turn")
    first_seq: int | None = None
    duplicate: bool = False
    slots: dict[str, Any] = {}
    released: bool | None = Field(None, description="with release_lease: whether the lease was released")


class TranscriptMessage(BaseModel):
    seq: int
    role: Literal["user", "bot", "agent"]
    text: str
    created_at: str | None = None
    message_id: str = ""
    intent: str | None = None
    confidence: float | None = None
    stage: str | None = None
    slots: dict[str, Any] = {}
    products: list[Any] = []
    evidence: dict[str, Any] = {}
    latency_ms: float | None = None


class TranscriptResponse(BaseModel):
    conversation_id: str
    messages: list[TranscriptMessage]


class ConversationSummary(BaseModel):
    conversation_id: str
    status: str
    lang: str = "en"
    last_message: dict[str, Any] | None = None
    turns: int = 0
    updated_at: str | None = None


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]
