"""Wire models of the intent service (the classify shapes come from kefu.contracts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator

from kefu.contracts import ClassifyRequest, ClassifyResponse, IntentCandidate

if TYPE_CHECKING:
    from services.intent.model import Prediction

__all__ = ["BatchClassifyRequest", "BatchClassifyResponse", "ClassifyRequest", "ClassifyResponse",
           "IntentCandidate", "ReloadRequest", "ReloadResponse", "TextRequest", "classify_response"]


def _not_blank(value: str) -> str:
    if not value or not value.strip():
        raise ValueError("text must not be empty or whitespace")
    return value


class TextRequest(ClassifyRequest):
    """ClassifyRequest plus the rule that blank text is a client error (422), not an intent."""

    @field_validator("text")
    @classmethod
    def _check_text(cls, value: str) -> str:
        return _not_blank(value)


class BatchClassifyRequest(BaseModel):
    texts: list[str] = Field(..., min_length=1, max_length=256)
    k: int = Field(5, ge=1, le=50)

    @field_validator("texts")
    @classmethod
    def _check_texts(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if not value or not value.strip():
                raise ValueError(f"texts[{i}] must not be empty or whitespace")
        return values


class BatchClassifyResponse(BaseModel):
    results: list[ClassifyResponse]
    model_version: str = ""


class ReloadRequest(BaseModel):
    model_dir: str | None = Field(None, description="Folder to load; default: the data dir's `current`")


class ReloadResponse(BaseModel):
    model_version: str
    previous_version: str | None = None
    changed: bool
    load_ms: float


def classify_response(pred: Prediction, version: str) -> ClassifyResponse:
    """A prediction on the wire: scores rounded to six places, latency to microseconds."""
    return ClassifyResponse(
        intent=pred.intent,
        confidence=round(pred.confidence, 6),
        stage=pred.stage,
        candidates=[IntentCandidate(label=lab, score=round(score, 6)) for lab, score in pred.candidates],
        out_of_scope=pred.out_of_scope,
        intents=[pred.intent, *(a for a in pred.also if a != pred.intent)],
        slots=pred.slots,
        goal=pred.goal,
        model_version=version,
        latency_ms=round(pred.latency_ms, 3),
    )
