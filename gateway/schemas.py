"""Wire models of the gateway's public API (OpenAPI docs come from these)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class CreateConversationRequest(BaseModel):
    lang: Literal["en", "zh"] | None = None
    metadata: dict[str, Any] = {}


class CreateConversationResponse(BaseModel):
    conversation_id: str
    token: str
    status: str = "bot"


class MessageIn(BaseModel):
    text: str = Field(..., min_length=1, description="The shopper's message")


class IntentOut(BaseModel):
    name: str | None
    confidence: float | None
    stage: str | None


class ReplyOut(BaseModel):
    text: str
    source: str = Field("template", description="llm | template | cache | none (an agent is handling it)")
    lang: str = "en"


class TurnOut(BaseModel):
    message_id: str
    reply: ReplyOut
    intent: IntentOut
    slots: dict[str, Any] = {}
    products: list[dict[str, Any]] = []
    handoff: bool = False
    degraded: list[str] = []
    status: str = "bot"


class TranscriptMessage(BaseModel):
    role: Literal["user", "bot", "agent"]
    text: str
    created_at: float | str | None = None
    message_id: str | None = None


class Transcript(BaseModel):
    conversation_id: str
    status: str = "bot"
    messages: list[dict[str, Any]]
    degraded: list[str] = []


class AgentMessageIn(BaseModel):
    text: str = Field(..., min_length=1)


class StatusOut(BaseModel):
    conversation_id: str
    status: str
