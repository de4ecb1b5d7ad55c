"""The conversation as the decision sees it (besides the understanding of this message)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from gateway.orders.rules import ShopRules
from gateway.turn.model import Goal

# Conversation state the gateway keeps in the dialog slots (dialog keeps "_" keys across topics).
GOAL_SLOT = "_goal"
VERIFIED_SLOT = "_verified"


@dataclass
class Situation:
    status: str = "bot"  # bot | pending_human (an agent-held conversation never reaches decide)
    drafting: bool = False  # an agent's suggested reply: look, never act
    goal: Goal | None = None  # what the shopper was doing when this message came
    verified: list[str] = field(default_factory=list)  # orders the shopper proved are theirs
    customer: str | None = None  # a signed-in shopper's email (shop-signed identity)
    factor: str = "email"  # what the shop asks to verify an order
    rules: ShopRules = field(default_factory=ShopRules)
    today: date = field(default_factory=date.today)
    message_id: str = ""  # this turn's id: the idempotency key of an action it offers

    @classmethod
    def from_slots(cls, state: dict[str, object], **kw: object) -> Situation:
        verified = state.get(VERIFIED_SLOT)
        return cls(goal=Goal.from_dict(state.get(GOAL_SLOT)),
                   verified=[str(v) for v in verified] if isinstance(verified, list) else [], **kw)  # type: ignore[arg-type]
