"""Understanding asked of an LLM as structured output: intents, slots and the goal update.

With `KEFU_INTENT_RERANKER=llm` and a capable model behind `KEFU_LLM_URL` (DeepSeek through
vLLM/SGLang, or the DeepSeek API), a message the fastText pre-screen is unsure of is read by the
model, which must answer one JSON object of `schema(labels)`:

    {"intents": ["damaged_item", "complaint"], "slots": {"order_id": "KF100007"}, "goal": "new"}

The engine is asked to enforce the schema (`response_format` json_schema: vLLM, SGLang and the
OpenAI API honour it; `KEFU_LLM_JSON_MODE=json_object` for the DeepSeek API, which only knows
JSON mode). Whatever comes back is validated here, because a model can still answer prose, a
label outside the taxonomy or a slot it made up: `parse` returns None for any of those, and the
caller keeps the local cascade's answer. No HTTP in this module (the client is
`services.intent.model.LLMReranker`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_INTENTS = 2  # a message carries at most two needs ("a complaint and an order question")
GOALS = ("new", "continue", "switch", "drop", "none")
SLOT_NAMES = ("order_id", "email", "product", "colour", "size", "country")
MAX_SLOT_CHARS = 120
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.I)


def schema(labels: list[str]) -> dict[str, Any]:
    """The JSON schema the engine is asked to enforce (strict: no other keys)."""
    return {
        "type": "object",
        "properties": {
            "intents": {"type": "array", "items": {"type": "string", "enum": list(labels)},
                        "minItems": 1, "maxItems": MAX_INTENTS},
            "slots": {"type": "object", "additionalProperties": False,
                      "properties": {n: {"type": "string", "maxLength": MAX_SLOT_CHARS} for n in SLOT_NAMES}},
            "goal": {"type": "string", "enum": list(GOALS)},
        },
        "required": ["intents", "slots", "goal"],
        "additionalProperties": False,
    }


def response_format(labels: list[str], mode: str = "json_schema") -> dict[str, Any]:
    if mode == "json_object":
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": "understanding", "strict": True, "schema": schema(labels)}}


def messages(text: str, candidates: list[str], labels: list[str]) -> list[dict[str, str]]:
    """The prompt: the taxonomy, the local cascade's best guesses as hints, the message."""
    system = (
        "You read messages that shoppers send to an online shop's customer service. Answer with one JSON "
        "object and nothing else: {\"intents\": [1-2 labels, the main need first], \"slots\": {only values "
        "written in the message: " + ", ".join(SLOT_NAMES) + "}, \"goal\": one of " + "|".join(GOALS) + "}. "
        "goal: new = a new request, continue = answers the bot's last question, switch = changes to another "
        "request, drop = gives up the pending one (\"never mind\"), none = small talk. Use out_of_scope for "
        "anything a shop's customer service does not handle. Labels: " + ", ".join(labels) + "."
    )
    hints = ", ".join(candidates)
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Likely labels: {hints}\nMessage: {text[:500]}"}]


class Understood(BaseModel):
    """A validated answer; built only through `parse`. Keys outside the schema are invalid."""

    model_config = ConfigDict(extra="forbid")
    intents: list[str] = Field(..., min_length=1, max_length=MAX_INTENTS)
    slots: dict[str, str] = {}
    goal: Literal["new", "continue", "switch", "drop", "none"] = "new"

    @field_validator("intents")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


def parse(content: str, labels: list[str], text: str) -> Understood | None:
    """The model's answer if it is valid JSON of the schema with labels of the taxonomy; of its
    slots only those whose values the message really contains (a made-up order id is the worst
    kind of wrong)."""
    try:
        raw = json.loads(_FENCE.sub("", content or ""))
        got = Understood.model_validate(raw)
    except (ValueError, ValidationError, TypeError):
        return None
    known = set(labels)
    if any(i not in known for i in got.intents):
        return None
    low = text.lower()
    slots = {k: v.strip() for k, v in got.slots.items()
             if k in SLOT_NAMES and v.strip() and len(v) <= MAX_SLOT_CHARS and v.strip().lower() in low}
    return got.model_copy(update={"slots": slots})  # slots the message does not contain are dropped
