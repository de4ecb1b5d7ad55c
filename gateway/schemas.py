"""Wire models of the gateway's public API (OpenAPI docs come from these)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

CLIENT_MESSAGE_ID_MAX = 128


def clean_text(value: str) -> str:
    """NULs dropped and the ends trimmed; an empty message is its own error (`empty_text`)."""
    value = value.replace("\x00", "").strip()
    if not value:
        raise PydanticCustomError("empty_text", "text must not be empty")
    return value


class IdentityIn(BaseModel):
    """A shopper the shop has signed in: `signature` is the hex HMAC-SHA256 of the lower-cased email
    with the shop's KEFU_IDENTITY_SECRET, computed on the shop's server (never in the browser)."""

    email: str = Field(..., min_length=3, max_length=256)
    signature: str = Field(..., min_length=64, max_length=64)


class CreateConversationRequest(BaseModel):
    lang: Literal["en", "zh"] | None = Field(None, description="the widget's language; default: the shop's")
    metadata: dict[str, Any] = {}
    identity: IdentityIn | None = Field(None, description="a signed-in shopper (their orders are verified)")


class CreateConversationResponse(BaseModel):
    conversation_id: str
    token: str
    status: str = "bot"


class MessageIn(BaseModel):
    text: str = Field(..., description="The shopper's message (at most KEFU_MAX_TEXT_CHARS characters)")
    client_message_id: str | None = Field(
        None, min_length=1, max_length=CLIENT_MESSAGE_ID_MAX,
        description="the widget's id for this message: a retry with the same id gets the first answer")

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return clean_text(v)


class HandoffIn(BaseModel):
    reason: str | None = Field(None, description="why the shopper wants a person (kept to 64 characters)")


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

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return clean_text(v)


class StatusOut(BaseModel):
    conversation_id: str
    status: str


class KbQuestionIn(BaseModel):
    """An agent trying the knowledge base: what would the bot find for this question?"""

    question: str = Field(..., min_length=1, max_length=2000)
    lang: str | None = Field(None, pattern="^(en|zh)$")
    intent: str | None = Field(None, max_length=64)
    k: int = Field(3, ge=1, le=20)


class KbDocumentUpload(BaseModel):
    name: str = Field(..., min_length=1, max_length=512, description="file name: .md, .html, .txt or .csv (FAQ)")
    content: str = Field(..., min_length=1, max_length=2_000_000)
    lang: str | None = Field(None, pattern="^(en|zh)$")
